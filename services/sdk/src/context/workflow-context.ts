import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { StepKind } from '@burnrate/core';
import { isAsyncFunction, stepGuards } from './step-guard.js';

/**
 * Where in an agent's logic path the code is running. emit() copies these fields into every event
 * made inside the scope, unless the event names them itself. Snapshots are frozen: a scope never
 * changes, a nested scope makes a new one, so concurrent runs cannot see each other's values.
 */
export interface WorkflowContext {
  readonly workflow: string | null;
  readonly workflowRunId: string | null;
  readonly stepId: string | null;
  readonly parentStepId: string | null;
  /** 0 for a top-level step (and for events outside any step); enclosing step's depth + 1 when nested. */
  readonly depth: number;
  /** 1 for a first try; withRetry() counts up. */
  readonly attempt: number;
  readonly stepKind: StepKind | null;
  readonly feature: string | null;
  readonly customerRef: string | null;
  readonly userRef: string | null;
}

export interface WorkflowOptions {
  /** The workflow's name, e.g. 'support-triage'. */
  workflow: string;
  /** One execution of the workflow; a random UUID when omitted. */
  runId?: string;
  feature?: string;
  /** Lets request-scoped code emit without repeating the customer on every call. */
  customerRef?: string;
  userRef?: string;
}

export interface StepOptions {
  /** A random UUID when omitted. */
  stepId?: string;
  kind?: StepKind;
  feature?: string;
  /** Overrides the inherited attempt number (1-based). */
  attempt?: number;
}

const EMPTY: WorkflowContext = Object.freeze({
  workflow: null,
  workflowRunId: null,
  stepId: null,
  parentStepId: null,
  depth: 0,
  attempt: 1,
  stepKind: null,
  feature: null,
  customerRef: null,
  userRef: null,
});

// One store per module instance is the point of AsyncLocalStorage: the scope travels with the async
// call chain, not with an object the caller must pass around.
const storage = new AsyncLocalStorage<WorkflowContext>();

/** The context of the running scope, or undefined outside withWorkflow()/withStep(). */
export function currentContext(): WorkflowContext | undefined {
  return storage.getStore();
}

/** Runs `fn` as one run of `workflow`. A nested withWorkflow starts a fresh run with no step. */
export function withWorkflow<T>(options: WorkflowOptions, fn: () => T): T {
  const outer = storage.getStore();
  const context: WorkflowContext = Object.freeze({
    ...EMPTY,
    workflow: options.workflow,
    workflowRunId: options.runId ?? randomUUID(),
    feature: options.feature ?? outer?.feature ?? null,
    customerRef: options.customerRef ?? outer?.customerRef ?? null,
    userRef: options.userRef ?? outer?.userRef ?? null,
  });
  return storage.run(context, fn);
}

/**
 * Runs `fn` as one step. Inside another step it becomes that step's child: parent_step_id is the
 * enclosing step and depth is one more. A step starts at attempt 1 unless `attempt` says otherwise;
 * it does not inherit the enclosing step's attempt, because the child's own retries are counted apart.
 *
 * Inside a withBudget() scope the step is checked before `fn` is called, and a step over a cap
 * fails with BudgetExceededError without calling `fn`: as a rejected promise when `fn` is an async
 * function, else by throwing. Outside a budget scope, and in one without a budget client, withStep
 * stays synchronous: it returns what `fn` returns. In a scope with a client the check asks the
 * budget API, so withStep returns a promise of `fn`'s result: give such steps async bodies and
 * await them.
 */
export function withStep<T>(options: StepOptions, fn: () => T): T {
  const outer = storage.getStore() ?? EMPTY;
  const nested = outer.stepId !== null;
  const context: WorkflowContext = Object.freeze({
    ...outer,
    stepId: options.stepId ?? randomUUID(),
    parentStepId: nested ? outer.stepId : null,
    depth: nested ? outer.depth + 1 : 0,
    attempt: options.attempt ?? 1,
    stepKind: options.kind ?? outer.stepKind,
    feature: options.feature ?? outer.feature,
  });
  const guard = stepGuards.getStore();
  if (guard === undefined) return storage.run(context, fn);
  return guard.enter(context, true, context.attempt > 1, isAsyncFunction(fn), () => storage.run(context, fn));
}

/**
 * Runs `fn` with the attempt number set, keeping the enclosing step (a retry is the same step).
 * Inside a withBudget() scope an attempt above 1 is a retry, checked like a step (see withStep).
 */
export function withAttempt<T>(attempt: number, fn: () => T): T {
  const outer = storage.getStore() ?? EMPTY;
  const context: WorkflowContext = Object.freeze({ ...outer, attempt });
  const guard = attempt > 1 ? stepGuards.getStore() : undefined;
  if (guard === undefined) return storage.run(context, fn);
  return guard.enter(context, false, true, isAsyncFunction(fn), () => storage.run(context, fn));
}
