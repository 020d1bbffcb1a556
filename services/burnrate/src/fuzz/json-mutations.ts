import type { UsageEvent } from '@burnrate/core';
import type { Rng } from './rng.js';

export const JSON_KINDS = [
  'bit_flip',
  'truncation',
  'type_confusion',
  'extreme_value',
  'unknown_field',
  'oversized_string',
  'oversized_map',
  'oversized_body',
  'invalid_utf8',
] as const;
export type JsonKind = (typeof JSON_KINDS)[number];

/** One mutated POST /v1/events body. */
export interface JsonMutation {
  kind: JsonKind;
  variant: string;
  field?: string;
  body: Buffer;
}

export interface BodyLimits {
  maxBodyBytes: number;
  maxBatchEvents: number;
}

/** The event as a JSON object a service would send: optional fields sometimes left out, time sometimes ISO. */
export function jsonEvent(rng: Rng, event: UsageEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...event,
    tokens: { ...event.tokens },
    units: { ...event.units },
    tags: { ...event.tags },
  };
  for (const key of [
    'user_ref',
    'workflow',
    'workflow_run_id',
    'step_id',
    'parent_step_id',
    'feature',
    'latency_ms',
    'environment',
    'request_id',
    'quality_score',
    'provider_reported_cost_nanos',
  ]) {
    if (out[key] === null && rng.chance(0.5)) delete out[key];
  }
  if (rng.chance(0.2)) out.occurred_at = new Date(event.occurred_at).toISOString();
  if (rng.chance(0.05)) delete out.event_id;
  if (rng.chance(0.05)) delete out.service;
  return out;
}

const TOP_FIELDS = [
  'event_id',
  'occurred_at',
  'service',
  'customer_ref',
  'user_ref',
  'workflow',
  'step_kind',
  'depth',
  'attempt',
  'provider',
  'model',
  'tokens',
  'requests',
  'units',
  'latency_ms',
  'status',
  'quality_score',
  'tags',
  'environment',
];
const NUMERIC_PATHS = [
  'occurred_at',
  'depth',
  'attempt',
  'requests',
  'latency_ms',
  'provider_reported_cost_nanos',
  'quality_score',
  'tokens.input',
  'tokens.cached_input',
  'tokens.cache_write',
  'tokens.output',
  'tokens.reasoning',
  'units.images',
  'units.audio_ms',
  'units.web_search_calls',
];
const STRING_PATHS = [
  'event_id',
  'service',
  'customer_ref',
  'provider',
  'model',
  'user_ref',
  'workflow',
  'feature',
  'request_id',
  'tags.region',
];
const EXTREME_NUMBERS = [
  '0',
  '-0',
  '-1',
  '0.5',
  '1.0',
  '1e0',
  '1e9',
  '1000000001',
  '65535',
  '65536',
  '2147483647',
  '2147483648',
  '4294967295',
  '4294967296',
  '9007199254740990',
  '9007199254740991',
  '9007199254740992',
  '9007199254740993',
  '1e308',
  '1e309',
  '-1e309',
  '1e-400',
  '123456789012345678901234567890',
  '0.1e1',
];
const EXTREME_INSTANTS = [
  '"9999-12-31T23:59:59Z"',
  '"2026-02-30T00:00:00Z"',
  '"2026-01-01T00:00:00"',
  '"+275760-09-13T00:00:00Z"',
  '"1999-12-31T23:59:59.999Z"',
  '"2000-01-01T00:00:00+00:00"',
  '"2026-01-01T00:00:00.123456789Z"',
  '"2026-01-01 00:00:00Z"',
];
// A string no event holds, replaced in the JSON text by the raw value (which need not be valid JSON).
const MARK = 'fuzz-value-placeholder-4f1c';
const PLACEHOLDER = JSON.stringify(MARK);

/** Sets a dotted path on a copy of the event (creating the parent object when missing). */
function setPath(event: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  // defineProperty, not assignment: `__proto__` must become an own key, as JSON.parse makes it.
  const define = (target: Record<string, unknown>, key: string, v: unknown): Record<string, unknown> =>
    Object.defineProperty(target, key, { value: v, enumerable: true, writable: true, configurable: true });
  const out = { ...event };
  const [top, sub] = path.split('.') as [string, string | undefined];
  if (sub === undefined) return define(out, top, value);
  const parent: Record<string, unknown> =
    typeof out[top] === 'object' && out[top] !== null ? { ...(out[top] as Record<string, unknown>) } : {};
  return define(out, top, define(parent, sub, value));
}

/** JSON text of the event with the value at `path` replaced by raw JSON text. */
function withRawValue(event: Record<string, unknown>, path: string, raw: string): Buffer {
  return Buffer.from(JSON.stringify(setPath(event, path, MARK)).replace(PLACEHOLDER, () => raw));
}

function bitFlip(rng: Rng, event: Record<string, unknown>): JsonMutation {
  const body = Buffer.from(JSON.stringify(event));
  const flips = rng.between(1, 3);
  for (let i = 0; i < flips; i++) body[rng.int(body.length)]! ^= 1 << rng.int(8);
  return { kind: 'bit_flip', variant: `${flips}_bits`, body };
}

function truncation(rng: Rng, event: Record<string, unknown>): JsonMutation {
  const body = Buffer.from(JSON.stringify(event));
  const r = rng.next();
  if (r < 0.05) return { kind: 'truncation', variant: 'empty', body: Buffer.alloc(0) };
  if (r < 0.15) return { kind: 'truncation', variant: 'last_byte', body: body.subarray(0, body.length - 1) };
  if (r < 0.25)
    return {
      kind: 'truncation',
      variant: 'trailing_garbage',
      body: Buffer.concat([body, Buffer.from(rng.pick([',', '}', ' {}', 'x', '\n{']))]),
    };
  return { kind: 'truncation', variant: 'cut', body: body.subarray(0, rng.between(1, body.length - 1)) };
}

function typeConfusion(rng: Rng, event: Record<string, unknown>): JsonMutation {
  const path = rng.pick([...TOP_FIELDS, 'tokens.input', 'tokens.output', 'units.images', 'tags.region']);
  const [label, value] = rng.pick<[string, unknown]>([
    ['string', 'text'],
    ['number_string', '42'],
    ['number', 42],
    ['bool', true],
    ['null', null],
    ['array', [1, 2]],
    ['object', { nested: 'x' }],
    ['empty_string', ''],
  ]);
  return {
    kind: 'type_confusion',
    variant: `${path}:${label}`,
    field: path,
    body: Buffer.from(JSON.stringify(setPath(event, path, value))),
  };
}

function extremeValue(rng: Rng, event: Record<string, unknown>): JsonMutation {
  if (rng.chance(0.15)) {
    const raw = rng.pick(EXTREME_INSTANTS);
    return {
      kind: 'extreme_value',
      variant: `occurred_at=${raw}`,
      field: 'occurred_at',
      body: withRawValue(event, 'occurred_at', raw),
    };
  }
  const path = rng.pick(NUMERIC_PATHS);
  const raw = rng.pick(EXTREME_NUMBERS);
  return {
    kind: 'extreme_value',
    variant: `${path}=${raw}`,
    field: path,
    body: withRawValue(event, path, raw),
  };
}

function unknownField(rng: Rng, event: Record<string, unknown>): JsonMutation {
  const [path, raw] = rng.pick<[string, string]>([
    ['customer_id', '"acme"'],
    ['__proto__', '{"admin":true}'],
    ['constructor', '{"prototype":{}}'],
    ['Event_ID', '"x"'],
    ['', '1'],
    ['tokens.foo', '5'],
    ['tokens.__proto__', '{"input":5}'],
    ['units.video_s', '3'],
    ['cost_total_nanos', '0'],
  ]);
  return {
    kind: 'unknown_field',
    variant: path || '(empty key)',
    field: path,
    body: withRawValue(event, path, raw),
  };
}

function oversizedString(rng: Rng, event: Record<string, unknown>): JsonMutation {
  const path = rng.pick(STRING_PATHS);
  const [label, raw] = rng.pick<[string, () => string]>([
    ['256', () => JSON.stringify('a'.repeat(256))],
    ['257', () => JSON.stringify('a'.repeat(257))],
    ['256_two_byte', () => JSON.stringify('é'.repeat(256))],
    ['128_astral', () => JSON.stringify('😀'.repeat(128))],
    ['129_astral', () => JSON.stringify('😀'.repeat(129))],
    ['64KiB', () => JSON.stringify('x'.repeat(65_536))],
    ['lone_surrogate', () => '"ab\\ud800cd"'],
    ['lone_low_surrogate', () => '"\\udc00"'],
    ['escaped_nul', () => '"a\\u0000b"'],
  ]);
  return {
    kind: 'oversized_string',
    variant: `${path}:${label}`,
    field: path,
    body: withRawValue(event, path, raw()),
  };
}

function oversizedMap(rng: Rng, event: Record<string, unknown>): JsonMutation {
  const tags = (n: number, key: (i: number) => string, value: (i: number) => string) =>
    JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [key(i), value(i)])));
  const [variant, path, raw] = rng.pick<[string, string, () => string]>([
    [
      'tags=32_at_limits',
      'tags',
      () =>
        tags(
          32,
          (i) => `${i}`.padStart(64, 'k'),
          () => 'v'.repeat(256),
        ),
    ],
    [
      'tags=33',
      'tags',
      () =>
        tags(
          33,
          (i) => `k${i}`,
          () => 'v',
        ),
    ],
    [
      'tags=10000',
      'tags',
      () =>
        tags(
          10_000,
          (i) => `k${i}`,
          () => 'v',
        ),
    ],
    [
      'tags.key=65',
      'tags',
      () =>
        tags(
          1,
          () => 'k'.repeat(65),
          () => 'v',
        ),
    ],
    [
      'tags.key=empty',
      'tags',
      () =>
        tags(
          1,
          () => '',
          () => 'v',
        ),
    ],
    ['tags.key=__proto__', 'tags', () => '{"__proto__":"polluted","k":"v"}'],
    ['tags.value=number', 'tags', () => '{"k":5}'],
    ['tags.duplicate_key', 'tags', () => '{"k":"first","k":"second"}'],
    [
      'tokens=10000_keys',
      'tokens',
      () =>
        tags(
          10_000,
          (i) => `t${i}`,
          () => '1',
        ),
    ],
    ['nested_arrays=10000', 'tags', () => '['.repeat(10_000) + ']'.repeat(10_000)],
    ['nested_objects=5000', 'tags', () => '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000)],
  ]);
  return { kind: 'oversized_map', variant, field: path, body: withRawValue(event, path, raw()) };
}

function oversizedBody(rng: Rng, event: Record<string, unknown>, limits: BodyLimits): JsonMutation {
  const one = JSON.stringify(event);
  const r = rng.next();
  if (r < 0.3) {
    const pad = ' '.repeat(limits.maxBodyBytes + 1 - one.length);
    return { kind: 'oversized_body', variant: 'padded_past_limit', body: Buffer.from(one + pad) };
  }
  if (r < 0.5) {
    const pad = ' '.repeat(Math.max(0, limits.maxBodyBytes - one.length));
    return { kind: 'oversized_body', variant: 'padded_to_limit', body: Buffer.from(one + pad) };
  }
  if (r < 0.7) {
    const items = Array.from({ length: limits.maxBatchEvents + 1 }, () => one);
    return { kind: 'oversized_body', variant: 'batch_past_limit', body: Buffer.from(`[${items.join(',')}]`) };
  }
  if (r < 0.8) return { kind: 'oversized_body', variant: 'empty_array', body: Buffer.from('[]') };
  const huge = JSON.stringify({ ...event, workflow: 'w'.repeat(limits.maxBodyBytes) });
  return { kind: 'oversized_body', variant: 'string_past_limit', field: 'workflow', body: Buffer.from(huge) };
}

function invalidUtf8(rng: Rng, event: Record<string, unknown>): JsonMutation {
  const path = rng.pick(STRING_PATHS);
  const [label, bytes] = rng.pick<[string, number[]]>([
    ['ff', [0xff]],
    ['overlong_slash', [0xc0, 0xaf]],
    ['surrogate_d800', [0xed, 0xa0, 0x80]],
    ['truncated_euro', [0xe2, 0x82]],
    ['lone_continuation', [0x80]],
    ['beyond_u10ffff', [0xf4, 0x90, 0x80, 0x80]],
  ]);
  const text = JSON.stringify(setPath(event, path, MARK));
  const at = text.indexOf(PLACEHOLDER);
  const body = Buffer.concat([
    Buffer.from(`${text.slice(0, at)}"ok`),
    Buffer.from(bytes),
    Buffer.from(`"${text.slice(at + PLACEHOLDER.length)}`),
  ]);
  return { kind: 'invalid_utf8', variant: `${path}:${label}`, field: path, body };
}

/** One mutated body of the given kind. Pure: depends only on the generator's state and the inputs. */
export function mutateJson(rng: Rng, kind: JsonKind, event: UsageEvent, limits: BodyLimits): JsonMutation {
  const base = jsonEvent(rng, event);
  switch (kind) {
    case 'bit_flip':
      return bitFlip(rng, base);
    case 'truncation':
      return truncation(rng, base);
    case 'type_confusion':
      return typeConfusion(rng, base);
    case 'extreme_value':
      return extremeValue(rng, base);
    case 'unknown_field':
      return unknownField(rng, base);
    case 'oversized_string':
      return oversizedString(rng, base);
    case 'oversized_map':
      return oversizedMap(rng, base);
    case 'oversized_body':
      return oversizedBody(rng, base, limits);
    case 'invalid_utf8':
      return invalidUtf8(rng, base);
  }
}
