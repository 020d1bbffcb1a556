import { type BudgetAnswer, ConfigError, formatNanosAsUsd } from '@burnrate/core';
import { type StepGuard, stepGuards } from '../context/step-guard.js';
import { currentContext, type WorkflowContext } from '../context/workflow-context.js';
import type { BudgetClient } from './client.js';
import { checkRunCost } from './cost-check.js';
import { BudgetExceededError, BudgetUnavailableError } from './errors.js';
import { type BudgetLimits, type ResolvedLimits, resolveLimits } from './limits.js';

/**
 * Runs `fn` in a budget scope: every step (withStep) and retry (withRetry, withAttempt above 1)
 * started inside it is checked before its body is called, and refused with BudgetExceededError
 * when it would break a cap. Scopes nest: an inner scope's caps apply on top of the outer's, and a
 * step inside both counts in both. Counts belong to the scope, so concurrent runs (each in its own
 * withBudget) never share them; parallel steps of one run do, and cannot both take the last slot.
 *
 * With a `client` (own or inherited), each step first asks the budget API about the customer and
 * the step's workflow run (cached for the client's cacheMs): `deny` stops the step (cap `budget`),
 * `warn` calls onWarn, and maxCostUsd is compared with the run's cost (see checkRunCost). Such a
 * check is asynchronous, so in a scope with a client withStep returns a promise; without one it
 * stays synchronous.
 *
 * Call it inside withWorkflow(): the run id and workflow of each check come from the workflow
 * context, and so does the customer unless `customerRef` names it.
 * @throws ConfigError (synchronously, before `fn` runs) for limits that cannot be enforced.
 */
export function withBudget<T>(limits: BudgetLimits, fn: () => T): T {
  const enclosing = stepGuards.getStore();
  const scope = new BudgetScope(limits, enclosing instanceof BudgetScope ? enclosing : undefined);
  return stepGuards.run(scope, fn);
}

class BudgetScope implements StepGuard {
  private readonly parent: BudgetScope | undefined;
  private readonly limits: ResolvedLimits;
  private readonly client: BudgetClient | null;
  private readonly customerRef: string | null;
  /** This scope or an enclosing one asks the API: the check before a step is asynchronous. */
  private readonly remote: boolean;
  private steps = 0;
  private retries = 0;
  /** The last answer onWarn was called with: a cached answer does not warn twice. */
  private warned: BudgetAnswer | null = null;

  constructor(limits: BudgetLimits, parent: BudgetScope | undefined) {
    this.limits = resolveLimits(limits);
    this.parent = parent;
    this.client = limits.client ?? parent?.client ?? null;
    const context = currentContext();
    this.customerRef = limits.customerRef ?? parent?.customerRef ?? context?.customerRef ?? null;
    this.remote = this.client !== null || (parent?.remote ?? false);
    if (this.client !== null && this.customerRef === null) {
      throw new ConfigError(
        'customerRef',
        'withBudget: a client needs a customer: pass customerRef, or call withBudget inside withWorkflow({ customerRef }).',
      );
    }
    if (this.limits.maxCostNanos !== null) {
      if (this.client === null) {
        throw new ConfigError(
          'maxCostUsd',
          "withBudget: maxCostUsd needs a client (createBudgetClient): the run's cost comes from the budget API.",
        );
      }
      if (!context?.workflowRunId) {
        throw new ConfigError(
          'maxCostUsd',
          'withBudget: maxCostUsd caps the cost of a workflow run: call withBudget inside withWorkflow().',
        );
      }
    }
  }

  enter<T>(
    context: WorkflowContext,
    newStep: boolean,
    retry: boolean,
    asyncBody: boolean,
    start: () => T,
  ): T {
    // Every scope agrees before any count moves, so a refused step leaves all counts as they were.
    try {
      for (let s: BudgetScope | undefined = this; s; s = s.parent) s.checkCounts(context, newStep, retry);
    } catch (error) {
      if (asyncBody || this.remote) return Promise.reject(error) as T;
      throw error;
    }
    this.count(newStep, retry, 1);
    if (!this.remote) return start();
    // The counts are taken before the await: parallel steps cannot both pass on the last slot.
    return this.checkRemote(context).then(start, (error: unknown) => {
      this.count(newStep, retry, -1);
      throw error;
    }) as T;
  }

  private count(newStep: boolean, retry: boolean, by: 1 | -1): void {
    for (let s: BudgetScope | undefined = this; s; s = s.parent) {
      if (newStep) s.steps += by;
      if (retry) s.retries += by;
    }
  }

  private checkCounts(context: WorkflowContext, newStep: boolean, retry: boolean): void {
    const { maxSteps, maxRetries, maxDepth } = this.limits;
    if (newStep && maxSteps !== null && this.steps >= maxSteps) {
      throw new BudgetExceededError(
        'steps',
        `Budget cap 'steps' reached: ${this.steps} steps started in this budget scope and maxSteps is ${maxSteps}; the next step was not started.`,
        { limit: maxSteps, used: this.steps },
      );
    }
    if (retry && maxRetries !== null && this.retries >= maxRetries) {
      throw new BudgetExceededError(
        'retries',
        `Budget cap 'retries' reached: ${this.retries} retries started in this budget scope and maxRetries is ${maxRetries}; the retry was not started.`,
        { limit: maxRetries, used: this.retries },
      );
    }
    if (newStep && maxDepth !== null && context.depth > maxDepth) {
      throw new BudgetExceededError(
        'depth',
        `Budget cap 'depth' reached: the step would run at depth ${context.depth} and maxDepth is ${maxDepth}; it was not started.`,
        { limit: maxDepth, used: context.depth },
      );
    }
  }

  /** Asks the API once per distinct (client, customer) in the chain, checks every scope, then warns. */
  private async checkRemote(context: WorkflowContext): Promise<void> {
    const checked: Array<[BudgetScope, BudgetAnswer]> = [];
    let previous: { scope: BudgetScope; answer: BudgetAnswer } | undefined;
    for (let s: BudgetScope | undefined = this; s; s = s.parent) {
      if (s.client === null) continue;
      const same =
        previous && previous.scope.client === s.client && previous.scope.customerRef === s.customerRef;
      const answer = same
        ? previous!.answer
        : await s.client.checkBudget({
            customerRef: s.customerRef!,
            workflow: context.workflow ?? undefined,
            runId: context.workflowRunId ?? undefined,
          });
      previous = { scope: s, answer };
      s.checkAnswer(answer);
      checked.push([s, answer]);
    }
    for (const [s, answer] of checked) {
      if (answer.decision !== 'warn' || s.limits.onWarn === null || s.warned === answer) continue;
      s.warned = answer;
      s.limits.onWarn(answer);
    }
  }

  private checkAnswer(answer: BudgetAnswer): void {
    if (answer.decision === 'deny') {
      const reasons = answer.reasons.map((r) => r.message).join(' ');
      throw new BudgetExceededError(
        'budget',
        `The budget API denied the next step${reasons ? `: ${reasons}` : '.'}`,
        {
          limit: answer.budget === null ? null : BigInt(answer.budget.nanos),
          used: BigInt(answer.spend.nanos),
          reasons: answer.reasons,
          answer,
        },
      );
    }
    const cap = this.limits.maxCostNanos;
    if (cap === null) return;
    if (answer.run === null) {
      throw new BudgetUnavailableError(
        'budget_bad_response',
        'The budget API answered without the run asked about; maxCostUsd cannot be checked.',
      );
    }
    const cost = checkRunCost(answer, cap);
    if (!cost.stop) return;
    throw new BudgetExceededError(
      'cost',
      `Budget cap 'cost' reached: the run has cost $${formatNanosAsUsd(cost.runCost)} and its next step is expected to cost $${formatNanosAsUsd(cost.nextStep)} (its steps' average), which reaches maxCostUsd $${formatNanosAsUsd(cap)}; the next step was not started. The run's cost trails real time by about a second.`,
      { limit: cap, used: cost.runCost + cost.nextStep, reasons: answer.reasons, answer },
    );
  }
}
