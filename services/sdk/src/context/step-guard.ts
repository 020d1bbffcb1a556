import { AsyncLocalStorage } from 'node:async_hooks';
import type { WorkflowContext } from './workflow-context.js';

/**
 * Something that must agree before a step or a retry starts: the budget scope of withBudget() is
 * the one there is. It lives in its own AsyncLocalStorage so that code outside any budget scope
 * pays one getStore() per withStep() and nothing else, and emit() never looks at it.
 */
export interface StepGuard {
  /**
   * Checks, then calls `start` (which runs the body inside `context`) or fails without calling it.
   * Returns what `start` returns, or a promise of it when the check itself has to wait.
   * @param newStep false for withAttempt(), which re-runs the same step rather than starting one.
   * @param retry true when `context.attempt` > 1: a retry of the enclosing or given step.
   * @param asyncBody the body is an async function: a refusal is a rejected promise, as an error
   * thrown inside the body would be, rather than a synchronous throw.
   */
  enter<T>(context: WorkflowContext, newStep: boolean, retry: boolean, asyncBody: boolean, start: () => T): T;
}

/** `async function` / `async () =>` (not a plain function that happens to return a promise). */
export function isAsyncFunction(fn: unknown): boolean {
  return (fn as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'AsyncFunction';
}

export const stepGuards = new AsyncLocalStorage<StepGuard>();
