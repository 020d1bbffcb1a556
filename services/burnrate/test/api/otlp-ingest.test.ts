import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../fixtures.js';
import { startApi } from './harness.js';
import { exportLiveRun } from './otlp-harness.js';

/**
 * What a service instrumented with OpenTelemetry sees: the official OTLP/HTTP trace exporters
 * (protobuf and JSON) export an agent run to the api role, with an API key, and its GenAI spans
 * become priced facts — workflow, run and step from the trace — with no burnrate code.
 */
let api: Awaited<ReturnType<typeof startApi>>;
beforeAll(async () => {
  api = await startApi({
    roles: 'clickhouse,enricher,ledger,api',
    keys: [
      { id: 'otel', scopes: ['ingest'], customers: ['*'] },
      { id: 'acme-only', scopes: ['ingest'], customers: ['acme'] },
    ],
  });
}, 120_000);
afterAll(() => api?.stop());

async function factsOfTrace(traceId: string) {
  const rs = await api.app.clickhouse!.query({
    query: `SELECT workflow, workflow_run_id, step_id, parent_step_id, service, model, tokens_input, tokens_cached_input, tokens_output, cost_total_nanos
            FROM ${api.config.CLICKHOUSE_DATABASE}.usage_events WHERE workflow_run_id = {t:String} ORDER BY step_id`,
    query_params: { t: traceId },
    format: 'JSONEachRow',
  });
  return (await rs.json()) as Array<Record<string, string | number>>;
}

describe('POST /v1/traces with the official OpenTelemetry exporters', () => {
  for (const encoding of ['protobuf', 'json'] as const) {
    it(`${encoding}: an agent run's GenAI spans become priced facts of one workflow run`, async () => {
      const out = await exportLiveRun(`${api.url}/v1/traces`, encoding, api.key('otel'), 'acme');
      expect(out).toMatchObject({ code: 0, error: null });
      const rows = await pollUntil(
        () => factsOfTrace(out.traceId),
        (r) => r.length === 2,
        60_000,
      );
      // gpt-4o-mini: 600k input × $0.15/M + 400k cached × $0.075/M + 100k output × $0.60/M = $0.18.
      for (const r of rows) {
        expect(r).toMatchObject({
          workflow: 'otel-triage',
          workflow_run_id: out.traceId,
          service: 'py-support-bot',
          model: 'gpt-4o-mini',
          tokens_input: '600000',
          tokens_cached_input: '400000',
          tokens_output: '100000',
          cost_total_nanos: '180000000',
        });
        expect(r.parent_step_id).toMatch(/^[0-9a-f]{16}$/);
      }
      expect(rows.map((r) => r.step_id).sort()).toEqual([...out.spanIds].sort());
    });
  }

  it("a key scoped to acme: globex's spans are rejected, counted as rejected spans, and nothing is written", async () => {
    const out = await exportLiveRun(`${api.url}/v1/traces`, 'protobuf', api.key('acme-only'), 'globex');
    expect(out.code).toBe(0); // OTLP: partial success is a success with rejected_spans counted
    const written = await api.eventsWritten();
    const again = await exportLiveRun(`${api.url}/v1/traces`, 'json', api.key('acme-only'), 'globex');
    expect(again.code).toBe(0);
    expect(await api.eventsWritten()).toBe(written);
    expect(await factsOfTrace(out.traceId)).toEqual([]);
  });

  it('no key: the exporter reports the failure', async () => {
    const out = await exportLiveRun(
      `${api.url}/v1/traces`,
      'protobuf',
      'brk_nobody_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      'acme',
    );
    expect(out.code).toBe(1);
    expect(out.error).toMatch(/401|Unauthorized/i);
  });
});
