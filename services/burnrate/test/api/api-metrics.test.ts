import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../fixtures.js';
import { get, sample } from '../runtime/ops-harness.js';
import { startApi } from './harness.js';

/**
 * The api role's requests in the process's metrics, and its /healthz and /readyz answering from
 * the same health model as the metrics port.
 */
let api: Awaited<ReturnType<typeof startApi>>;
beforeAll(async () => {
  api = await startApi({
    roles: 'clickhouse,api',
    keys: [{ id: 'svc', scopes: ['ingest'], customers: ['*'] }],
    env: { READY_PROBE_INTERVAL_MS: '200' },
  });
});
afterAll(() => api?.stop());

describe('api role metrics and health', () => {
  it('counts requests by route, method and status, with their duration', async () => {
    const ops = api.app.ops.url();
    const before = (await get(`${ops}/metrics`)).text;
    const event = { event_id: randomUUID(), customer_ref: 'acme', provider: 'openai', model: 'gpt-4o-mini' };
    const ok = await api.call('/v1/events', {
      method: 'POST',
      key: 'svc',
      body: JSON.stringify({ ...event, tokens: { input: 10, output: 5 } }),
      headers: { 'content-type': 'application/json' },
    });
    expect(ok.status).toBe(200);
    expect((await api.call('/v1/events', { method: 'POST', key: null })).status).toBe(401);
    expect((await api.call('/v1/nothing-here')).status).toBe(404);
    const after = (await get(`${ops}/metrics`)).text;
    const delta = (labels: Record<string, string>) =>
      (sample(after, 'burnrate_api_requests_total', labels) ?? 0) -
      (sample(before, 'burnrate_api_requests_total', labels) ?? 0);
    expect(delta({ role: 'api', route: '/v1/events', method: 'POST', status: '200' })).toBe(1);
    expect(delta({ role: 'api', route: '/v1/events', method: 'POST', status: '401' })).toBe(1);
    // Unknown paths share one label value: a scanner cannot blow up the series count.
    expect(delta({ role: 'api', route: 'other', method: 'GET', status: '404' })).toBe(1);
    expect(sample(after, 'burnrate_api_request_seconds_count', { route: '/v1/events' })).toBe(2);
  });

  it('answers /healthz and /readyz on its own port exactly as the metrics port does', async () => {
    const ops = api.app.ops.url();
    const readyOps = await pollUntil(
      () => get(`${ops}/readyz`),
      (r) => r.status === 200,
      20_000,
    );
    expect(readyOps.status).toBe(200);
    const readyApi = await api.call('/readyz');
    expect(readyApi.status).toBe(200);
    expect(readyApi.json.checks.map((c: { name: string }) => c.name)).toEqual(
      readyOps.json().checks.map((c) => c.name),
    );
    const live = await api.call('/healthz');
    expect(live.status).toBe(200);
    expect(live.json).toMatchObject({ status: 'ok', ok: true });
  });
});
