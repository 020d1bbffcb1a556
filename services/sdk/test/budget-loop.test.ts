import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type BudgetAnswer,
  BudgetApiError,
  BudgetExceededError,
  createBudgetClient,
  withBudget,
  withStep,
  withWorkflow,
} from '../src/index.js';
import { answer, type FakeBudgetApi, sendJson, startFakeBudgetApi } from './budget-server.js';

let api: FakeBudgetApi;
beforeAll(async () => {
  api = await startFakeBudgetApi();
});
afterAll(() => api.close());
beforeEach(() => {
  api.requests.length = 0;
});

/** An agent loop: up to `iterations` steps, stopped gracefully by a BudgetExceededError. */
async function agentLoop(iterations: number, body: (i: number) => void | Promise<void>) {
  const ran: number[] = [];
  try {
    for (let i = 1; i <= iterations; i++) {
      await withStep({ kind: 'llm_call' }, async () => {
        ran.push(i);
        await body(i);
      });
    }
    return { ran, stopped: null };
  } catch (error) {
    if (!(error instanceof BudgetExceededError)) throw error;
    return { ran, stopped: error };
  }
}

describe('withBudget with a budget client', () => {
  it('stops the loop before the step the API denies, with its reasons, after asking about the run', async () => {
    let calls = 0;
    api.handle((_, res) => {
      calls++;
      sendJson(
        res,
        200,
        calls < 3
          ? answer()
          : answer({
              decision: 'deny',
              reasons: [{ code: 'budget_exhausted', message: '$1.00 spent of the $1.00 monthly budget.' }],
              spend: { nanos: '1000000000', usd: '1.00' },
              suggestion: {
                model: 'gpt-4o-mini',
                instead_of: 'gpt-4o',
                cost_per_call: { nanos: '100', usd: '0.0000001' },
                instead_of_cost_per_call: { nanos: '1000', usd: '0.000001' },
                quality_score: 0.9,
                instead_of_quality_score: 0.91,
                calls: 40,
              },
            }),
      );
    });
    const client = createBudgetClient({ url: api.url, apiKey: 'brk_k_1', cacheMs: 0 });
    const { ran, stopped } = await withWorkflow(
      { workflow: 'research', runId: 'run-7', customerRef: 'acme' },
      () => withBudget({ client }, () => agentLoop(10, () => {})),
    );
    expect(ran).toEqual([1, 2]);
    expect(stopped).toMatchObject({ cap: 'budget', limit: 1_000_000_000n, used: 1_000_000_000n });
    expect(stopped!.reasons.map((r) => r.code)).toEqual(['budget_exhausted']);
    expect(stopped!.message).toContain('$1.00 spent of the $1.00 monthly budget.');
    expect(stopped!.answer?.suggestion?.model).toBe('gpt-4o-mini');
    expect(api.requests).toHaveLength(3);
    expect(api.requests[2]!.query).toEqual({ customer: 'acme', workflow: 'research', run: 'run-7' });
  });

  it('calls onWarn on a warn answer, once per answer, and lets the steps run', async () => {
    api.handle((_, res) =>
      sendJson(
        res,
        200,
        answer({ decision: 'warn', reasons: [{ code: 'budget_warn', message: 'past 80%' }] }),
      ),
    );
    const client = createBudgetClient({ url: api.url, apiKey: 'brk_k_1', cacheMs: 60_000 });
    const warned: BudgetAnswer[] = [];
    const { ran, stopped } = await withWorkflow({ workflow: 'research', customerRef: 'acme' }, () =>
      withBudget({ client, onWarn: (a) => warned.push(a) }, () => agentLoop(3, () => {})),
    );
    expect(ran).toEqual([1, 2, 3]);
    expect(stopped).toBeNull();
    expect(api.requests).toHaveLength(1); // one run, one query: the cache answered steps 2 and 3
    expect(warned).toHaveLength(1);
    expect(warned[0]!.reasons[0]!.code).toBe('budget_warn');
  });

  it('maxCostUsd: stops when the run’s cost plus its average step reaches the cap', async () => {
    // The fake pipeline: each step that ran costs 0.1 USD and is visible to the next check.
    let stepsDone = 0;
    api.handle((request, res) =>
      sendJson(
        res,
        200,
        answer(
          {},
          { runId: request.query.run!, costNanos: BigInt(stepsDone) * 100_000_000n, steps: stepsDone },
        ),
      ),
    );
    const client = createBudgetClient({ url: api.url, apiKey: 'brk_k_1', cacheMs: 0 });
    const { ran, stopped } = await withWorkflow({ workflow: 'research', customerRef: 'acme' }, () =>
      withBudget({ client, maxCostUsd: 0.3 }, () =>
        agentLoop(10, () => {
          stepsDone++;
        }),
      ),
    );
    // Step 3 would start at 0.20 spent + 0.10 expected = 0.30, which reaches the cap.
    expect(ran).toEqual([1, 2]);
    expect(stopped).toMatchObject({
      cap: 'cost',
      limit: 300_000_000n,
      used: 300_000_000n,
      field: 'maxCostUsd',
    });
    expect(stopped!.message).toMatch(/cost \$0\.20 .* \$0\.10 .* maxCostUsd \$0\.30/);
  });

  it('maxCostUsd: a run already at its cap does not start another step', async () => {
    api.handle((request, res) =>
      sendJson(res, 200, answer({}, { runId: request.query.run!, costNanos: 500_000_000n, steps: 0 })),
    );
    const client = createBudgetClient({ url: api.url, apiKey: 'brk_k_1' });
    const { ran, stopped } = await withWorkflow({ workflow: 'research', customerRef: 'acme' }, () =>
      withBudget({ client, maxCostUsd: '0.50' }, () => agentLoop(3, () => {})),
    );
    expect(ran).toEqual([]);
    expect(stopped).toMatchObject({ cap: 'cost', limit: 500_000_000n, used: 500_000_000n });
  });

  it('returns a promise from withStep even for a synchronous body, and keeps the body’s value', async () => {
    api.handle((_, res) => sendJson(res, 200, answer()));
    const client = createBudgetClient({ url: api.url, apiKey: 'brk_k_1' });
    const result = withWorkflow({ workflow: 'w', customerRef: 'acme' }, () =>
      withBudget({ client }, () => withStep({}, () => 42)),
    );
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toBe(42);
  });

  it('an API error fails the step without running it, and does not use up a step', async () => {
    let calls = 0;
    api.handle((_, res) => {
      calls++;
      if (calls === 1)
        sendJson(res, 503, { error: { code: 'aggregates_unavailable', message: 'rebuilding' } });
      else sendJson(res, 200, answer());
    });
    const client = createBudgetClient({ url: api.url, apiKey: 'brk_k_1', cacheMs: 0 });
    const ran: number[] = [];
    await withWorkflow({ workflow: 'w', customerRef: 'acme' }, () =>
      withBudget({ client, maxSteps: 1 }, async () => {
        await expect(withStep({}, async () => ran.push(1))).rejects.toBeInstanceOf(BudgetApiError);
        expect(ran).toEqual([]);
        await withStep({}, async () => ran.push(2)); // the refused check gave its step back
        await expect(withStep({}, async () => ran.push(3))).rejects.toMatchObject({ cap: 'steps' });
      }),
    );
    expect(ran).toEqual([2]);
  });

  it('keeps concurrent runs apart: the API’s deny for one run stops only that run', async () => {
    api.handle((request, res) =>
      sendJson(res, 200, answer({ decision: request.query.run === 'b' ? 'deny' : 'allow' })),
    );
    const client = createBudgetClient({ url: api.url, apiKey: 'brk_k_1' });
    const run = (runId: string) =>
      withWorkflow({ workflow: 'w', runId, customerRef: 'acme' }, () =>
        withBudget({ client, maxSteps: 3 }, () => agentLoop(5, () => {})),
      );
    const [a, b] = await Promise.all([run('a'), run('b')]);
    expect(a.ran).toEqual([1, 2, 3]);
    expect(a.stopped).toMatchObject({ cap: 'steps' });
    expect(b.ran).toEqual([]);
    expect(b.stopped).toMatchObject({ cap: 'budget' });
  });

  it('a nested scope inherits the client and customer and adds its own caps', async () => {
    let stepsDone = 0;
    api.handle((request, res) =>
      sendJson(
        res,
        200,
        answer({}, { runId: request.query.run!, costNanos: BigInt(stepsDone) * 10n, steps: stepsDone }),
      ),
    );
    const client = createBudgetClient({ url: api.url, apiKey: 'brk_k_1', cacheMs: 0 });
    const { ran, stopped } = await withWorkflow({ workflow: 'w', customerRef: 'acme' }, () =>
      withBudget({ client, maxSteps: 100 }, () =>
        withBudget({ maxCostUsd: '0.000000040' }, () =>
          agentLoop(10, () => {
            stepsDone++;
          }),
        ),
      ),
    );
    // 30 nanos spent + 10 expected = 40 reaches the inner cap before step 4.
    expect(ran).toEqual([1, 2, 3]);
    expect(stopped).toMatchObject({ cap: 'cost', limit: 40n, used: 40n });
    // Both scopes check the same (client, customer): one request per step, not two.
    expect(api.requests).toHaveLength(4);
  });
});
