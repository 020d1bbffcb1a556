import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { currentContext, withRetry, withStep, withWorkflow } from '../src/index.js';

describe('workflow context', () => {
  it('is undefined outside any scope', () => {
    expect(currentContext()).toBeUndefined();
  });

  it('nests steps: parent_step_id is the enclosing step and depth counts up, across awaits', async () => {
    const seen: Array<ReturnType<typeof currentContext>> = [];
    await withWorkflow({ workflow: 'research', runId: 'r1', feature: 'deep-research' }, async () => {
      seen.push(currentContext());
      await withStep({ stepId: 'plan', kind: 'llm_call' }, async () => {
        await sleep(1);
        seen.push(currentContext());
        await withStep({ stepId: 'search', kind: 'tool_call' }, async () => {
          await sleep(1);
          await withStep({ stepId: 'summarise' }, async () => {
            seen.push(currentContext());
          });
          seen.push(currentContext());
        });
        seen.push(currentContext()); // back in 'plan' after the child finished
      });
    });
    expect(seen.map((c) => [c?.stepId, c?.parentStepId, c?.depth, c?.stepKind])).toEqual([
      [null, null, 0, null],
      ['plan', null, 0, 'llm_call'],
      ['summarise', 'search', 2, 'tool_call'],
      ['search', 'plan', 1, 'tool_call'],
      ['plan', null, 0, 'llm_call'],
    ]);
    for (const c of seen)
      expect(c).toMatchObject({ workflow: 'research', workflowRunId: 'r1', feature: 'deep-research' });
  });

  it('keeps concurrent runs apart: interleaved agents never see each other’s run or steps', async () => {
    const agent = (name: string, delays: number[]) =>
      withWorkflow({ workflow: 'agent', runId: name, customerRef: `cust-${name}` }, async () => {
        const observed: string[] = [];
        for (const [i, delay] of delays.entries()) {
          await withStep({ stepId: `${name}-${i}` }, async () => {
            await sleep(delay);
            await withStep({}, async () => {
              await sleep(delays[(i + 1) % delays.length]!);
              const c = currentContext()!;
              observed.push(`${c.workflowRunId}|${c.customerRef}|${c.parentStepId}|${c.depth}`);
            });
          });
        }
        return observed;
      });
    const results = await Promise.all([
      agent('a', [5, 1, 3, 2]),
      agent('b', [1, 4, 1, 3]),
      agent('c', [2, 2, 2, 2]),
    ]);
    results.forEach((observed, k) => {
      const name = ['a', 'b', 'c'][k]!;
      expect(observed).toEqual([0, 1, 2, 3].map((i) => `${name}|cust-${name}|${name}-${i}|1`));
    });
  });

  it('gives every run and step a fresh id when none is given', async () => {
    const ids = await Promise.all(
      [1, 2, 3].map(() => withWorkflow({ workflow: 'w' }, () => withStep({}, async () => currentContext()!))),
    );
    expect(new Set(ids.map((c) => c.workflowRunId)).size).toBe(3);
    expect(new Set(ids.map((c) => c.stepId)).size).toBe(3);
  });

  it('withRetry counts attempts within the same step and rethrows after the last one', async () => {
    const attempts: Array<[string | null, number]> = [];
    const result = await withStep({ stepId: 'flaky' }, () =>
      withRetry({ maxAttempts: 3 }, async (attempt) => {
        const c = currentContext()!;
        attempts.push([c.stepId, c.attempt]);
        if (attempt < 3) throw new Error('rate limited');
        return 'ok';
      }),
    );
    expect(result).toBe('ok');
    expect(attempts).toEqual([
      ['flaky', 1],
      ['flaky', 2],
      ['flaky', 3],
    ]);
    await expect(
      withRetry({ maxAttempts: 2 }, async () => Promise.reject(new Error('down'))),
    ).rejects.toThrow('down');
    let tries = 0;
    await expect(
      withRetry({ maxAttempts: 5, retryIf: (e) => (e as Error).message !== 'fatal' }, async () => {
        tries++;
        throw new Error('fatal');
      }),
    ).rejects.toThrow('fatal');
    expect(tries).toBe(1);
  });

  it('a child step starts at attempt 1 even inside a retried parent', async () => {
    const seen: number[] = [];
    await withRetry({ maxAttempts: 2 }, async (attempt) => {
      await withStep({}, async () => {
        seen.push(currentContext()!.attempt);
      });
      if (attempt === 1) throw new Error('again');
    });
    expect(seen).toEqual([1, 1]);
  });
});
