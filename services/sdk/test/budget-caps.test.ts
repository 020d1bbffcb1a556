import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import {
  BudgetExceededError,
  checkRunCost,
  currentContext,
  withAttempt,
  withBudget,
  withRetry,
  withStep,
  withWorkflow,
} from '../src/index.js';
import { answer } from './budget-server.js';

/** Runs `fn` and returns what it threw (failing the test when it threw nothing). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('withBudget: local caps', () => {
  it('maxSteps: the step that would exceed the cap throws before its body runs', () => {
    const ran: number[] = [];
    const error = withWorkflow({ workflow: 'w' }, () =>
      withBudget({ maxSteps: 3 }, () =>
        thrown(() => {
          for (let i = 1; i <= 5; i++) withStep({}, () => ran.push(i));
        }),
      ),
    );
    expect(ran).toEqual([1, 2, 3]);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error).toMatchObject({
      cap: 'steps',
      limit: 3,
      used: 3,
      code: 'budget_exceeded',
      field: 'maxSteps',
    });
    expect((error as Error).message).toMatch(/'steps'.*3 steps started.*maxSteps is 3/);
  });

  it('counts nested steps, and stays synchronous without a client', async () => {
    const ran: string[] = [];
    const run = withBudget({ maxSteps: 2 }, async () => {
      // withStep without a client returns the body's value itself, not a promise.
      expect(withStep({}, () => 42)).toBe(42);
      await withStep({ stepId: 'outer' }, async () => {
        ran.push('outer');
        await withStep({ stepId: 'inner' }, async () => {
          ran.push('inner');
        });
      });
    });
    await expect(run).rejects.toMatchObject({ cap: 'steps', used: 2 });
    expect(ran).toEqual(['outer']);
  });

  it('maxRetries: withRetry stops at the retry that would exceed the cap, without running it', async () => {
    const attempts: number[] = [];
    const failing = withBudget({ maxRetries: 2 }, () =>
      withStep({ stepId: 'flaky' }, () =>
        withRetry({ maxAttempts: 10 }, async (attempt) => {
          attempts.push(attempt);
          throw new Error('rate limited');
        }),
      ),
    );
    const error = await failing.catch((e: unknown) => e);
    expect(attempts).toEqual([1, 2, 3]);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error).toMatchObject({ cap: 'retries', limit: 2, used: 2 });
    expect((error as Error).message).toMatch(/'retries'.*2 retries started.*maxRetries is 2/);
  });

  it('maxRetries: withAttempt above 1 is a retry; attempt 1 is not', () => {
    let runs = 0;
    withBudget({ maxRetries: 0 }, () => {
      withAttempt(1, () => runs++);
      expect(() => withAttempt(2, () => runs++)).toThrow(BudgetExceededError);
      expect(() => withStep({ attempt: 2 }, () => runs++)).toThrow(/'retries'/);
    });
    expect(runs).toBe(1);
  });

  it('maxDepth: a step deeper than the cap never starts; shallower ones do', () => {
    const depths: number[] = [];
    const error = withBudget({ maxDepth: 1 }, () =>
      thrown(() =>
        withStep({}, () => {
          depths.push(currentContext()!.depth);
          withStep({}, () => {
            depths.push(currentContext()!.depth);
            withStep({}, () => depths.push(currentContext()!.depth));
          });
        }),
      ),
    );
    expect(depths).toEqual([0, 1]);
    expect(error).toMatchObject({ cap: 'depth', limit: 1, used: 2, field: 'maxDepth' });
    expect((error as Error).message).toMatch(/depth 2 and maxDepth is 1/);
  });

  it('withRetry does not retry a BudgetExceededError raised inside its body', async () => {
    let tries = 0;
    const error = await withBudget({ maxSteps: 0 }, () =>
      withRetry({ maxAttempts: 5 }, async () => {
        tries++;
        await withStep({}, async () => {});
      }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ cap: 'steps' });
    expect(tries).toBe(1);
  });

  it('keeps concurrent runs apart: each run gets its own count', async () => {
    const agent = (name: string, delays: number[]) =>
      withWorkflow({ workflow: 'agent', runId: name }, () =>
        withBudget({ maxSteps: 3 }, async () => {
          const done: string[] = [];
          try {
            for (const delay of delays) {
              await withStep({}, async () => {
                await sleep(delay);
                done.push(currentContext()!.workflowRunId!);
              });
            }
          } catch (error) {
            if (!(error instanceof BudgetExceededError)) throw error;
            done.push(`stopped:${error.used}`);
          }
          return done;
        }),
      );
    const [a, b] = await Promise.all([agent('a', [3, 1, 4, 1, 5]), agent('b', [1, 5, 1, 2, 1])]);
    expect(a).toEqual(['a', 'a', 'a', 'stopped:3']);
    expect(b).toEqual(['b', 'b', 'b', 'stopped:3']);
  });

  it('parallel steps of one run share the count: only maxSteps of them start', async () => {
    let started = 0;
    const results = await withBudget({ maxSteps: 2 }, () =>
      Promise.allSettled(
        [1, 2, 3, 4].map(() =>
          withStep({}, async () => {
            started++;
            await sleep(5);
          }),
        ),
      ),
    );
    expect(started).toBe(2);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
  });

  it('nested scopes: the inner caps apply on top of the outer, and inner steps count in the outer', () => {
    const ran: string[] = [];
    const outcome = withBudget({ maxSteps: 5 }, () => {
      const inner = withBudget({ maxSteps: 2 }, () =>
        thrown(() => {
          for (let i = 1; i <= 4; i++) withStep({}, () => ran.push(`inner${i}`));
        }),
      );
      const outer = thrown(() => {
        for (let i = 1; i <= 5; i++) withStep({}, () => ran.push(`outer${i}`));
      });
      return { inner, outer };
    });
    expect(outcome.inner).toMatchObject({ cap: 'steps', limit: 2, used: 2 });
    // 2 inner steps + 3 outer steps = the outer's 5; the refused inner steps did not count.
    expect(ran).toEqual(['inner1', 'inner2', 'outer1', 'outer2', 'outer3']);
    expect(outcome.outer).toMatchObject({ cap: 'steps', limit: 5, used: 5 });
  });

  it('nested scopes: the outer cap stops a step of the inner scope that the inner cap allows', () => {
    const ran: number[] = [];
    const error = withBudget({ maxSteps: 1 }, () =>
      withBudget({ maxSteps: 10 }, () =>
        thrown(() => {
          for (let i = 1; i <= 3; i++) withStep({}, () => ran.push(i));
        }),
      ),
    );
    expect(ran).toEqual([1]);
    expect(error).toMatchObject({ cap: 'steps', limit: 1 });
  });

  it('refuses limits it cannot enforce, naming the option', () => {
    const field = (limits: Parameters<typeof withBudget>[0]) => {
      const error = thrown(() => withBudget(limits, () => 0));
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).field;
    };
    expect(field({ maxSteps: -1 })).toBe('maxSteps');
    expect(field({ maxRetries: 1.5 })).toBe('maxRetries');
    expect(field({ maxDepth: Number.NaN })).toBe('maxDepth');
    expect(field({ maxCostUsd: '1e-3' })).toBe('maxCostUsd');
    expect(field({ maxCostUsd: 0.0000000001 })).toBe('maxCostUsd');
    // A cost cap needs the budget API, which knows the run's cost.
    expect(field({ maxCostUsd: 1 })).toBe('maxCostUsd');
    const client = { checkBudget: async () => answer() };
    expect(field({ client })).toBe('customerRef');
    expect(
      withWorkflow({ workflow: 'w', customerRef: 'acme' }, () => withBudget({ client }, () => 'ok')),
    ).toBe('ok');
  });
});

describe('checkRunCost', () => {
  const at = (costNanos: bigint, steps: number) => answer({}, { runId: 'r', costNanos, steps });

  it('expects the next step to cost the run’s average step, rounded up, and stops when the sum reaches the cap', () => {
    expect(checkRunCost(at(200_000_000n, 2), 300_000_000n)).toEqual({
      runCost: 200_000_000n,
      nextStep: 100_000_000n,
      stop: true,
    });
    expect(checkRunCost(at(200_000_000n, 2), 300_000_001n).stop).toBe(false);
    expect(checkRunCost(at(10n, 3), 100n).nextStep).toBe(4n);
  });

  it('with no step counted yet, stops only a run already at the cap', () => {
    expect(checkRunCost(at(0n, 0), 1n)).toEqual({ runCost: 0n, nextStep: 0n, stop: false });
    expect(checkRunCost(at(5n, 0), 5n).stop).toBe(true);
  });

  it('is exact beyond 2^53 nano-USD', () => {
    const cost = 2n ** 60n + 1n;
    expect(checkRunCost(at(cost, 1), 2n * cost + 1n).stop).toBe(false);
    expect(checkRunCost(at(cost, 1), 2n * cost).stop).toBe(true);
  });
});
