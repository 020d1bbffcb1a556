import { createHash } from 'node:crypto';
import { buildEvent, type EmitInput } from '@burnrate/sdk';
import { beforeAll, describe, expect, it } from 'vitest';
import { createOtlpTraceMapper, type OtlpBatch } from '../../src/roles/api/otlp/mapper.js';
import { type ScenarioName, type SerializedScenario, serializedScenarios, T0 } from './otlp-harness.js';

type Encoding = 'protobuf' | 'json';

let scenarios: Record<ScenarioName, SerializedScenario>;
beforeAll(async () => {
  scenarios = await serializedScenarios();
});

const mapper = createOtlpTraceMapper({
  customerAttributes: ['burnrate.customer_ref'],
  workflowAttributes: ['burnrate.workflow', 'gen_ai.agent.name'],
});

const spanId = (scenario: SerializedScenario, name: string) =>
  scenario.spans.find((s) => s.name === name)!.spanId;
const eventOf = (batch: OtlpBatch, id: string) => batch.events.find((e) => e.spanId === id)?.input;

/** UUIDv8 from SHA-256 of the id bytes, computed here independently of the module. */
function expectedEventId(traceId: string, spanId: string, customer: string): string {
  const d = createHash('sha256')
    .update(Buffer.from(traceId + spanId, 'hex'))
    .update(customer, 'utf8')
    .digest();
  d[6] = (d[6]! & 0x0f) | 0x80;
  d[8] = (d[8]! & 0x3f) | 0x80;
  const h = d.subarray(0, 16).toString('hex');
  return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join('-');
}

describe.each<Encoding>(['protobuf', 'json'])('OTLP %s from the official serializer', (encoding) => {
  it('turns each GenAI span into a usage event and ignores the others', () => {
    const agent = scenarios.agent;
    const batch = mapper.map(agent[encoding], encoding);
    expect(batch.rejected).toEqual([]);
    expect(batch.ignored).toBe(2); // the invoke_agent root (no usage) and the HTTP span
    expect(batch.events.map((e) => e.spanId).sort()).toEqual(
      ['chat gpt-4o', 'embeddings', 'execute_tool search'].map((name) => spanId(agent, name)).sort(),
    );

    const traceId = agent.spans[0]!.traceId;
    const chat = spanId(agent, 'chat gpt-4o');
    expect(eventOf(batch, chat)).toEqual({
      event_id: expectedEventId(traceId, chat, 'acme'),
      occurred_at: T0 * 1000 + 123,
      service: 'support-bot',
      customer_ref: 'acme',
      user_ref: 'u-7',
      workflow: 'contract-review',
      workflow_run_id: traceId,
      step_id: chat,
      parent_step_id: spanId(agent, 'invoke_agent research'),
      step_kind: 'llm_call',
      depth: 0,
      attempt: 2,
      feature: 'smart-reply',
      provider: 'openai',
      model: 'gpt-4o-2024-08-06',
      tokens: { input: 600, cached_input: 400, cache_write: 0, output: 300, reasoning: 200 },
      latency_ms: 1333, // 1.333543210 s, truncated to whole ms
      status: 'error',
      environment: 'production',
      request_id: 'chatcmpl-42',
      tags: { effort: 'high' },
    } satisfies EmitInput);
  });

  it('reads older attribute names, per-span customers, operation kinds and defaults', () => {
    const agent = scenarios.agent;
    const batch = mapper.map(agent[encoding], encoding);
    const embed = eventOf(batch, spanId(agent, 'embeddings'))!;
    expect(embed).toMatchObject({
      customer_ref: 'globex', // the span's attribute wins over the resource's
      provider: 'openai', // gen_ai.system
      model: 'text-embedding-3-small', // gen_ai.request.model when no response model
      tokens: { input: 42, cached_input: 0, cache_write: 0, output: 0, reasoning: 0 },
      step_kind: 'embedding',
      workflow: 'support-bot', // no workflow attribute: the service name
      user_ref: null,
      feature: null,
      request_id: null,
      attempt: 1,
      status: 'ok',
      latency_ms: 250,
      occurred_at: (T0 + 2) * 1000,
    });
    expect(embed.tags).toBeUndefined();
    const tool = eventOf(batch, spanId(agent, 'execute_tool search'))!;
    expect(tool).toMatchObject({ step_kind: 'tool_call', provider: 'anthropic', latency_ms: 5 });
  });

  it('returns inputs the client library accepts, with ids stable across resends and encodings', () => {
    const agent = scenarios.agent;
    const batch = mapper.map(agent[encoding], encoding);
    for (const { input } of batch.events) {
      const event = buildEvent(input, { service: 'fallback', environment: null });
      expect(event.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(event.workflow_run_id).toMatch(/^[0-9a-f]{32}$/);
      expect(event.step_id).toMatch(/^[0-9a-f]{16}$/);
      expect(event.service).toBe('support-bot');
    }
    const ids = batch.events.map((e) => e.input.event_id);
    expect(new Set(ids).size).toBe(3);
    expect(mapper.map(agent[encoding], encoding).events.map((e) => e.input.event_id)).toEqual(ids);
    const other: Encoding = encoding === 'json' ? 'protobuf' : 'json';
    expect(mapper.map(agent[other], other).events.map((e) => e.input.event_id)).toEqual(ids);
  });

  it('rejects GenAI spans it cannot price or attribute, naming the attribute', () => {
    const scenario = scenarios.rejections;
    const batch = mapper.map(scenario[encoding], encoding);
    const rejection = (name: string) => batch.rejected.find((r) => r.spanId === spanId(scenario, name));

    expect(batch.rejected).toHaveLength(5);
    expect(batch.events.map((e) => e.spanId)).toEqual([spanId(scenario, 'fine')]);
    expect(batch.ignored).toBe(0);
    expect(rejection('no customer')).toMatchObject({ field: 'burnrate.customer_ref' });
    expect(rejection('no customer')!.message).toMatch(
      /set the span or resource attribute burnrate\.customer_ref/,
    );
    expect(rejection('negative')).toMatchObject({ field: 'gen_ai.usage.input_tokens' });
    expect(rejection('negative')!.message).toMatch(/is -5: a token count must be a non-negative integer/);
    expect(rejection('string count')).toMatchObject({ field: 'gen_ai.usage.output_tokens' });
    expect(rejection('string count')!.message).toMatch(/must be an int attribute .*not the string "many"/);
    expect(rejection('no model')).toMatchObject({ field: 'model' });
    // 2e9 − 400 cached = 1 999 999 600 input tokens: over buildEvent's sanity bound.
    expect(rejection('absurd count')).toMatchObject({ field: 'tokens.input' });
    expect(rejection('absurd count')!.message).toMatch(/above the sanity bound/);
  });

  it('searches the configured customer attributes on the span, then on the resource', () => {
    const scenario = scenarios.customers;
    const custom = createOtlpTraceMapper({
      customerAttributes: ['tenant.id', 'org.id'],
      workflowAttributes: [],
    });
    const batch = custom.map(scenario[encoding], encoding);
    expect(eventOf(batch, spanId(scenario, 'resource'))?.customer_ref).toBe('from-resource');
    expect(eventOf(batch, spanId(scenario, 'span'))?.customer_ref).toBe('from-span');

    const strict = createOtlpTraceMapper({
      customerAttributes: ['tenant.id', 'team.id'],
      workflowAttributes: [],
    });
    const { rejected } = strict.map(scenario[encoding], encoding);
    expect(rejected.map((r) => [r.spanId, r.field])).toEqual([
      [spanId(scenario, 'resource'), 'tenant.id, team.id'],
    ]);
    expect(rejected[0]!.message).toMatch(/attribute tenant\.id .*searched: tenant\.id, team\.id/);
  });

  it('maps a body with no spans to an empty batch', () => {
    expect(mapper.map(scenarios.empty[encoding], encoding)).toEqual({ events: [], rejected: [], ignored: 0 });
  });
});
