import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from './harness.js';

/**
 * Hostile and malformed input on every endpoint of the api role: each gets its status, a stable
 * code and a sentence naming what to fix — and nothing reaches usage.events (the topic's offsets do
 * not move), while a good request afterwards does (the positive control).
 */
let api: Awaited<ReturnType<typeof startApi>>;
let before = 0;
beforeAll(async () => {
  api = await startApi({
    roles: 'clickhouse,api',
    keys: [
      { id: 'svc', scopes: ['ingest', 'budget', 'forecast'], customers: ['*'] },
      { id: 'reader', scopes: ['budget'], customers: ['acme'] },
      { id: 'acme-svc', scopes: ['ingest'], customers: ['acme'] },
      { id: 'limited', scopes: ['ingest'], customers: ['*'] },
    ],
    env: {
      INGEST_MAX_BODY_BYTES: '1048576',
      INGEST_MAX_BATCH_EVENTS: '10',
      INGEST_RATE_LIMIT_EVENTS_PER_SECOND: '15',
    },
  });
  before = await api.eventsWritten();
}, 120_000);
afterAll(() => api?.stop());

const event = (o: Record<string, unknown> = {}) => ({
  event_id: randomUUID(),
  customer_ref: 'acme',
  provider: 'openai',
  model: 'gpt-4o-mini',
  tokens: { input: 10 },
  ...o,
});
const JSON_TYPE = { 'content-type': 'application/json' };
const post = (body: string | Uint8Array, o: { key?: string | null; headers?: Record<string, string> } = {}) =>
  api.call('/v1/events', {
    method: 'POST',
    key: o.key === undefined ? 'svc' : o.key,
    body,
    headers: { ...JSON_TYPE, ...o.headers },
  });

/** A POST with a body streamed in chunks and no Content-Length (so only the running count can stop it). */
function postChunked(bytes: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${api.url}/v1/events`);
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { ...JSON_TYPE, authorization: `Bearer ${api.key('svc')}` },
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    for (let sent = 0; sent < bytes; sent += 1024) req.write(' '.repeat(1024));
    req.end();
  });
}

describe('bad input to POST /v1/events', () => {
  it('no key, a wrong key, a key without the scope: 401, 401, 403', async () => {
    const none = await post(JSON.stringify(event()), { key: null });
    expect(none.status).toBe(401);
    expect(none.json.error).toMatchObject({ code: 'unauthorized', field: 'Authorization' });
    expect(none.json.error.message).toMatch(/Authorization: Bearer/);
    const wrong = await api.call('/v1/events', {
      method: 'POST',
      body: JSON.stringify(event()),
      headers: { ...JSON_TYPE, authorization: `Bearer ${api.key('svc').slice(0, -2)}xx` },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.message).toBe('The API key is not valid.');
    const scope = await post(JSON.stringify(event()), { key: 'reader' });
    expect(scope.status).toBe(403);
    expect(scope.json.error.message).toMatch(/ingest scope/);
  });

  it('oversized bodies (declared, streamed, or a gzip bomb) and batches: 413', async () => {
    const big = await post(
      JSON.stringify([event({ tags: { pad: 'x'.repeat(200) } })]).padEnd(1_100_000, ' '),
    );
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('body_too_large');
    const streamed = await postChunked(2 * 1024 * 1024);
    expect(streamed.status).toBe(413);
    const bomb = gzipSync(Buffer.from(`[${' '.repeat(50_000_000)}]`));
    expect(bomb.length).toBeLessThan(100_000);
    const inflated = await post(bomb, { headers: { 'content-encoding': 'gzip' } });
    expect(inflated.status).toBe(413);
    const batch = await post(JSON.stringify(Array.from({ length: 11 }, () => event())));
    expect(batch.status).toBe(413);
    expect(batch.json.error).toMatchObject({ code: 'batch_too_large' });
    expect(batch.json.error.message).toBe(
      '11 events in one request; at most 10 are accepted (INGEST_MAX_BATCH_EVENTS).',
    );
  });

  it('a wrong media type or encoding: 415; invalid UTF-8, invalid JSON, no events: 400', async () => {
    const text = await post(JSON.stringify(event()), { headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect(text.json.error.field).toBe('Content-Type');
    const br = await post(JSON.stringify(event()), { headers: { 'content-encoding': 'compress' } });
    expect(br.status).toBe(415);
    expect(br.json.error.field).toBe('Content-Encoding');
    const utf8 = await post(
      Buffer.concat([Buffer.from('{"customer_ref":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    );
    expect(utf8.status).toBe(400);
    expect(utf8.json.error.code).toBe('invalid_utf8');
    const json = await post('{"customer_ref": "acme",');
    expect(json.status).toBe(400);
    expect(json.json.error.code).toBe('invalid_json');
    expect((await post('[]')).json.error.code).toBe('no_events');
  });

  it('wrong types, unknown fields, deep nesting, another customer: each event rejected naming its field (422)', async () => {
    const events = [
      event({ tokens: { input: '12' } }),
      event({ customer_id: 'acme' }),
      event({ tokens: { input: 1, prompt: 3 } }),
      event({ tags: 'DEEP' }),
      event({ model: 42 }),
      event({ customer_ref: 'globex' }),
      event({ occurred_at: 'yesterday' }),
      event({ event_id: 'not-a-uuid' }),
    ];
    // 100,000 levels of nesting (written as text: JSON.stringify itself would overflow the stack).
    const body = JSON.stringify(events).replace(
      '"DEEP"',
      `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`,
    );
    const r = await api.call('/v1/events', {
      method: 'POST',
      key: 'acme-svc',
      body,
      headers: { ...JSON_TYPE },
    });
    expect(r.status).toBe(422);
    expect(r.json.accepted).toBe(0);
    expect(r.json.results.map((x: { field: string }) => x.field)).toEqual([
      'tokens.input',
      'customer_id',
      'tokens.prompt',
      'tags.a',
      'model',
      'customer_ref',
      'occurred_at',
      'event_id',
    ]);
    for (const x of r.json.results) expect(x.error).toMatch(/^\S.*\.$/);
  });

  it('over the key’s rate: 429 with Retry-After', async () => {
    const first = await post(
      JSON.stringify(Array.from({ length: 10 }, () => event({ model: 'm', tokens: { input: -1 } }))),
      {
        key: 'limited',
      },
    );
    expect(first.status).toBe(422);
    const second = await post(JSON.stringify(Array.from({ length: 10 }, () => event())), { key: 'limited' });
    expect(second.status).toBe(429);
    expect(second.json.error.code).toBe('rate_limited');
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});

describe('bad input to GET /v1/budget and /v1/forecast', () => {
  it('missing, unknown, repeated and malformed parameters: 400 naming the parameter', async () => {
    const cases: Array<[string, string, string]> = [
      ['/v1/budget', 'missing_parameter', 'customer'],
      ['/v1/budget?customer=acme&customer_id=x', 'unknown_parameter', 'customer_id'],
      ['/v1/budget?customer=acme&customer=acme', 'repeated_parameter', 'customer'],
      ['/v1/budget?customer=acme&effort=huge', 'invalid_parameter', 'effort'],
      ['/v1/budget?customer=acme&prompt_tokens=-1', 'invalid_parameter', 'prompt_tokens'],
      [`/v1/budget?customer=${'a'.repeat(300)}`, 'invalid_parameter', 'customer'],
      ['/v1/forecast', 'missing_parameter', 'workflow'],
      ['/v1/forecast?workflow=w&scope=month', 'invalid_parameter', 'scope'],
      ['/v1/forecast?workflow=w&model=gpt-4o', 'invalid_parameter', 'model'],
    ];
    for (const [path, code, field] of cases) {
      const r = await api.call(path, { key: 'svc' });
      expect([path, r.status, r.json.error.code, r.json.error.field]).toEqual([path, 400, code, field]);
    }
  });

  it('another customer’s key: 403 and no numbers; no key: 401', async () => {
    const r = await api.call('/v1/budget?customer=globex', { key: 'reader' });
    expect(r.status).toBe(403);
    expect(Object.keys(r.json)).toEqual(['error']);
    expect((await api.call('/v1/budget?customer=acme')).status).toBe(401);
    expect((await api.call('/v1/forecast?workflow=w', { key: 'reader' })).status).toBe(403);
  });

  it('unknown paths and methods: 404 and 405', async () => {
    expect((await api.call('/v1/nothing', { key: 'svc' })).status).toBe(404);
    const m = await api.call('/v1/budget?customer=acme', { key: 'svc', method: 'DELETE' });
    expect(m.status).toBe(405);
    expect(m.json.error.message).toBe('/v1/budget answers GET only.');
  });
});

describe('bad input to POST /v1/traces', () => {
  it('bytes that are not OTLP: 400; a wrong media type: 415', async () => {
    const garbage = await api.call('/v1/traces', {
      method: 'POST',
      key: 'svc',
      body: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]),
      headers: { 'content-type': 'application/x-protobuf' },
    });
    expect(garbage.status).toBe(400);
    expect(garbage.json.error.code).toBe('invalid_otlp');
    const json = await api.call('/v1/traces', {
      method: 'POST',
      key: 'svc',
      body: '{"resourceSpans": 7}',
      headers: JSON_TYPE,
    });
    expect(json.status).toBe(400);
    const type = await api.call('/v1/traces', {
      method: 'POST',
      key: 'svc',
      body: '{}',
      headers: { 'content-type': 'text/csv' },
    });
    expect(type.status).toBe(415);
  });
});

describe('no effect', () => {
  it('nothing above reached usage.events; one good event does (the positive control)', async () => {
    expect(await api.eventsWritten()).toBe(before);
    const ok = await post(JSON.stringify(event()));
    expect(ok.status).toBe(200);
    expect(await api.eventsWritten()).toBe(before + 1);
  });
});
