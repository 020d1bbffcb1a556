import { BurnrateError, ValidationError } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { createOtlpTraceMapper } from '../../src/roles/api/otlp/mapper.js';
import { T0 } from './otlp-harness.js';

const mapper = createOtlpTraceMapper({
  customerAttributes: ['burnrate.customer_ref'],
  workflowAttributes: ['burnrate.workflow', 'gen_ai.agent.name'],
});
const TRACE = '5b8efff798038103d269b633813fc60c';
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const kv = (key: string, value: Record<string, unknown>) => ({ key, value });

/** An OTLP JSON request with one GenAI span, 64-bit integers written as `int64`'s choice. */
function request(int64: (n: bigint) => string | number, span: Record<string, unknown> = {}) {
  const start = BigInt(T0) * 1_000_000_000n + 7_000_000n;
  return {
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', { stringValue: 'py-bot' })] },
        scopeSpans: [
          {
            scope: { name: 'opentelemetry.instrumentation.openai_v2' },
            spans: [
              {
                traceId: TRACE.toUpperCase(), // hex is case-insensitive; events carry lower case
                spanId: 'EEE19B7EC3C1B174',
                parentSpanId: '',
                name: 'chat gpt-4o-mini',
                kind: 3,
                startTimeUnixNano: int64(start),
                endTimeUnixNano: int64(start + 840_000_000n),
                attributes: [
                  kv('gen_ai.provider.name', { stringValue: 'openai' }),
                  kv('gen_ai.request.model', { stringValue: 'gpt-4o-mini' }),
                  kv('gen_ai.usage.input_tokens', { intValue: int64(1000n) }),
                  kv('gen_ai.usage.cache_read.input_tokens', { intValue: int64(400n) }),
                  kv('gen_ai.usage.output_tokens', { intValue: int64(500n) }),
                  kv('gen_ai.usage.reasoning.output_tokens', { intValue: int64(200n) }),
                  kv('burnrate.customer_ref', { stringValue: 'acme' }),
                  kv('burnrate.attempt', { intValue: int64(3n) }),
                  kv('ignored.nested', { arrayValue: { values: [{ kvlistValue: { values: [] } }, {}] } }),
                ],
                status: { code: 2 },
                ...span,
              },
            ],
          },
        ],
      },
    ],
  };
}

/** The error map() throws, or a description of what happened instead. */
function failure(body: Uint8Array, encoding: 'protobuf' | 'json'): BurnrateError | string {
  try {
    return `no error: ${JSON.stringify(mapper.map(body, encoding))}`;
  } catch (error) {
    return error instanceof BurnrateError ? error : `not a BurnrateError: ${error}`;
  }
}

describe('OTLP JSON written by hand', () => {
  it('takes 64-bit integers as decimal strings or as numbers, with the same result', () => {
    const asStrings = mapper.map(json(request((n) => n.toString())), 'json');
    const asNumbers = mapper.map(json(request((n) => Number(n))), 'json');
    expect(asStrings.rejected).toEqual([]);
    expect(asStrings.events).toHaveLength(1);
    expect(asStrings.events[0]).toMatchObject({
      spanId: 'eee19b7ec3c1b174',
      input: {
        workflow_run_id: TRACE,
        step_id: 'eee19b7ec3c1b174',
        parent_step_id: null,
        occurred_at: T0 * 1000 + 7,
        latency_ms: 840,
        attempt: 3,
        status: 'error',
        service: 'py-bot',
        workflow: 'py-bot',
        environment: null,
        tokens: { input: 600, cached_input: 400, cache_write: 0, output: 300, reasoning: 200 },
      },
    });
    expect(asNumbers).toEqual(asStrings);
  });

  it('accepts status codes by name and treats null as absent', () => {
    const batch = mapper.map(
      json(request((n) => n.toString(), { status: { code: 'STATUS_CODE_OK' }, parentSpanId: null })),
      'json',
    );
    expect(batch.events[0]?.input).toMatchObject({ status: 'ok', parent_step_id: null });
  });

  it('rejects a span whose ids are not 16 and 8 bytes', () => {
    const batch = mapper.map(json(request((n) => n.toString(), { traceId: 'abcd' })), 'json');
    expect(batch.rejected).toEqual([
      { spanId: 'eee19b7ec3c1b174', field: 'traceId', message: expect.stringMatching(/16 bytes/) },
    ]);
  });

  it.each([
    ['not JSON', new TextEncoder().encode('{"resourceSpans": ['), 'body', /not JSON/],
    ['an array', json([]), 'body', /must be an object/],
    ['resourceSpans not a list', json({ resourceSpans: {} }), 'resourceSpans', /must be an array/],
    [
      'a fractional timestamp',
      json(request((n) => n.toString(), { startTimeUnixNano: '12.5' })),
      'resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano',
      /64-bit integer/,
    ],
    [
      'a base64 trace id',
      json(request((n) => n.toString(), { traceId: 'W47/95gDgQPSabYzgT/GDA==' })),
      'resourceSpans[0].scopeSpans[0].spans[0].traceId',
      /hex string/,
    ],
    [
      'a string intValue that is not a number',
      json(request((n) => n.toString(), { attributes: [kv('x', { intValue: '1e3' })] })),
      'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.intValue',
      /64-bit integer/,
    ],
    [
      'attribute values nested too deeply',
      new TextEncoder().encode(
        `{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":${'{"arrayValue":{"values":['.repeat(20_000)}${']}}'.repeat(20_000)}}]}}]}`,
      ),
      'body',
      /nests attribute values too deeply/,
    ],
  ])('refuses %s with a typed error naming the field', (_what, body, field, message) => {
    const error = failure(body, 'json');
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'invalid_otlp', field, retriable: false });
    expect((error as Error).message).toMatch(message);
  });

  it('maps an empty object or an empty list of resource spans to an empty batch', () => {
    expect(mapper.map(json({}), 'json')).toEqual({ events: [], rejected: [], ignored: 0 });
    expect(mapper.map(json({ resourceSpans: [] }), 'json')).toEqual({ events: [], rejected: [], ignored: 0 });
  });
});

describe('OTLP protobuf that does not decode', () => {
  it.each([
    ['a truncated length-delimited field', Uint8Array.from([0x0a, 0xff, 0x01, 0x00])],
    ['an invalid wire type', Uint8Array.from([0x0f])],
  ])('is refused with a typed error: %s', (_what, body) => {
    const error = failure(body, 'protobuf');
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'invalid_otlp', field: 'body' });
    expect((error as Error).message).toMatch(/^The body is not a protobuf OTLP ExportTraceServiceRequest: /);
  });

  it('maps zero bytes (an empty request) to an empty batch', () => {
    expect(mapper.map(new Uint8Array(), 'protobuf')).toEqual({ events: [], rejected: [], ignored: 0 });
  });
});
