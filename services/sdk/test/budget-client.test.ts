import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, ValidationError } from '@burnrate/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BudgetApiError, BudgetUnavailableError, createBudgetClient } from '../src/index.js';
import { answer, type FakeBudgetApi, sendJson, startFakeBudgetApi } from './budget-server.js';

const API_KEY = 'brk_test_s3cr3t-value';

let api: FakeBudgetApi;
beforeAll(async () => {
  api = await startFakeBudgetApi();
});
afterAll(() => api.close());
beforeEach(() => {
  api.requests.length = 0;
  api.handle((_, res) => sendJson(res, 200, answer()));
});

describe('createBudgetClient', () => {
  it('asks GET /v1/budget with the bearer key and every query parameter', async () => {
    const client = createBudgetClient({ url: `${api.url}/`, apiKey: API_KEY });
    const got = await client.checkBudget({
      customerRef: 'acme corp',
      workflow: 'research',
      runId: 'run-42',
      model: 'gpt-4o',
      effort: 'l',
      promptTokens: 3000,
    });
    expect(got.decision).toBe('allow');
    expect(got.spend.nanos).toBe('100000000');
    expect(api.requests).toEqual([
      {
        path: '/v1/budget',
        query: {
          customer: 'acme corp',
          workflow: 'research',
          run: 'run-42',
          model: 'gpt-4o',
          effort: 'l',
          prompt_tokens: '3000',
        },
        authorization: `Bearer ${API_KEY}`,
      },
    ]);
  });

  it('keeps a path prefix of the url', async () => {
    const client = createBudgetClient({ url: `${api.url}/burnrate`, apiKey: API_KEY });
    await client.checkBudget({ customerRef: 'acme' });
    expect(api.requests[0]!.path).toBe('/burnrate/v1/budget');
  });

  it('answers the same query from its cache within cacheMs, and asks again after', async () => {
    const client = createBudgetClient({ url: api.url, apiKey: API_KEY, cacheMs: 150 });
    const first = await client.checkBudget({ customerRef: 'acme', runId: 'r1' });
    const second = await client.checkBudget({ customerRef: 'acme', runId: 'r1' });
    expect(second).toBe(first);
    expect(api.requests).toHaveLength(1);
    await client.checkBudget({ customerRef: 'acme', runId: 'r2' }); // another query: its own request
    expect(api.requests).toHaveLength(2);
    await sleep(200);
    const third = await client.checkBudget({ customerRef: 'acme', runId: 'r1' });
    expect(third).not.toBe(first);
    expect(api.requests).toHaveLength(3);
  });

  it('hands out frozen answers, so one caller cannot change another’s', async () => {
    const client = createBudgetClient({ url: api.url, apiKey: API_KEY });
    const got = await client.checkBudget({ customerRef: 'acme' });
    expect(Object.isFrozen(got)).toBe(true);
    expect(Object.isFrozen(got.spend)).toBe(true);
  });

  it('shares one request among concurrent identical calls', async () => {
    api.handle(async (_, res) => {
      await sleep(50);
      sendJson(res, 200, answer());
    });
    const client = createBudgetClient({ url: api.url, apiKey: API_KEY, cacheMs: 0 });
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => client.checkBudget({ customerRef: 'acme' })));
    expect(api.requests).toHaveLength(1);
    expect(new Set(answers).size).toBe(1);
    // With cacheMs 0 nothing is kept once the request is done.
    await client.checkBudget({ customerRef: 'acme' });
    expect(api.requests).toHaveLength(2);
  });

  it('does not cache failures: the next call asks again', async () => {
    let calls = 0;
    api.handle((_, res) => {
      calls++;
      if (calls === 1) {
        sendJson(
          res,
          503,
          { error: { code: 'aggregates_unavailable', message: 'retry soon' } },
          { 'retry-after': '2' },
        );
      } else sendJson(res, 200, answer({ decision: 'warn' }));
    });
    const client = createBudgetClient({ url: api.url, apiKey: API_KEY, cacheMs: 10_000 });
    const error = await client.checkBudget({ customerRef: 'acme' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BudgetApiError);
    expect(error).toMatchObject({
      status: 503,
      code: 'aggregates_unavailable',
      retriable: true,
      retryAfterSeconds: 2,
    });
    expect((await client.checkBudget({ customerRef: 'acme' })).decision).toBe('warn');
    expect(api.requests).toHaveLength(2);
  });

  it('maps 401 and 403 to BudgetApiError with the server’s code, message and field, never the key', async () => {
    const client = createBudgetClient({ url: api.url, apiKey: API_KEY });
    api.handle((_, res) =>
      sendJson(res, 401, { error: { code: 'unauthorized', message: 'The API key is not valid.' } }),
    );
    const unauthorized = await client.checkBudget({ customerRef: 'acme' }).catch((e: unknown) => e);
    expect(unauthorized).toBeInstanceOf(BudgetApiError);
    expect(unauthorized).toMatchObject({
      status: 401,
      code: 'unauthorized',
      message: 'The API key is not valid.',
      retriable: false,
    });
    api.handle((_, res) =>
      sendJson(res, 403, {
        error: { code: 'forbidden', message: 'This key may not act for customer globex.', field: 'customer' },
      }),
    );
    const forbidden = await client.checkBudget({ customerRef: 'globex' }).catch((e: unknown) => e);
    expect(forbidden).toMatchObject({
      status: 403,
      code: 'forbidden',
      message: 'This key may not act for customer globex.',
      field: 'customer',
    });
    for (const error of [unauthorized, forbidden]) {
      expect(JSON.stringify({ ...(error as object), message: (error as Error).message })).not.toContain(
        's3cr3t',
      );
    }
  });

  it('names an error status that came without an ApiError body', async () => {
    api.handle((_, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>bad gateway</html>');
    });
    const client = createBudgetClient({ url: api.url, apiKey: API_KEY });
    const error = await client.checkBudget({ customerRef: 'acme' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, code: 'http_502', retriable: true });
    expect((error as Error).message).toMatch(/answered 502/);
  });

  it('refuses a 200 that is not a budget answer', async () => {
    api.handle((_, res) => sendJson(res, 200, { status: 'ok' }));
    const client = createBudgetClient({ url: api.url, apiKey: API_KEY });
    const error = await client.checkBudget({ customerRef: 'acme' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BudgetUnavailableError);
    expect(error).toMatchObject({ code: 'budget_bad_response', retriable: false });
  });

  it('gives up after timeoutMs with BudgetUnavailableError budget_timeout', async () => {
    api.handle(async (_, res) => {
      await sleep(2000);
      if (!res.destroyed) sendJson(res, 200, answer());
    });
    const client = createBudgetClient({ url: api.url, apiKey: API_KEY, timeoutMs: 100 });
    const started = Date.now();
    const error = await client.checkBudget({ customerRef: 'acme' }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(BudgetUnavailableError);
    expect(error).toMatchObject({ code: 'budget_timeout', retriable: true });
    expect((error as Error).message).toContain('100 ms');
  });

  it('reports a server that cannot be reached as budget_unreachable', async () => {
    const closed = await startFakeBudgetApi();
    await closed.close();
    const client = createBudgetClient({ url: closed.url, apiKey: API_KEY });
    const error = await client.checkBudget({ customerRef: 'acme' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BudgetUnavailableError);
    expect(error).toMatchObject({ code: 'budget_unreachable', retriable: true });
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('checks its options, naming the option and never echoing the key', () => {
    const field = (options: Parameters<typeof createBudgetClient>[0]) => {
      try {
        createBudgetClient(options);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).not.toContain('s3cr3t');
        return (error as ConfigError).field;
      }
      return 'accepted';
    };
    expect(field({ url: 'ftp://burnrate', apiKey: API_KEY })).toBe('url');
    expect(field({ url: 'burnrate-api:8787', apiKey: API_KEY })).toBe('url');
    expect(field({ url: 'http://user:pw@burnrate', apiKey: API_KEY })).toBe('url');
    expect(field({ url: api.url, apiKey: '' })).toBe('apiKey');
    expect(field({ url: api.url } as Parameters<typeof createBudgetClient>[0])).toBe('apiKey');
    expect(field({ url: api.url, apiKey: 'brk s3cr3t\n' })).toBe('apiKey');
    expect(field({ url: api.url, apiKey: API_KEY, cacheMs: -1 })).toBe('cacheMs');
    expect(field({ url: api.url, apiKey: API_KEY, timeoutMs: 0 })).toBe('timeoutMs');
    expect(field({ url: 'https://burnrate.example.com', apiKey: API_KEY })).toBe('accepted');
  });

  it('rejects a malformed query without a request', async () => {
    const client = createBudgetClient({ url: api.url, apiKey: API_KEY });
    await expect(client.checkBudget({ customerRef: '' })).rejects.toBeInstanceOf(ValidationError);
    await expect(client.checkBudget({ customerRef: 'acme', promptTokens: -5 })).rejects.toMatchObject({
      field: 'promptTokens',
    });
    expect(api.requests).toHaveLength(0);
  });
});
