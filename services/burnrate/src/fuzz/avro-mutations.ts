import {
  bundledSchemaRegistry,
  MAX_OCCURRED_AT_MS,
  MIN_OCCURRED_AT_MS,
  type UsageEvent,
} from '@burnrate/core';
import {
  assemble,
  type EncodedEvent,
  encodeSegments,
  type FieldShape,
  overlongVarint,
  rawDouble,
  rawLong,
  rawMap,
  rawString,
  segmentOffsets,
  withSegment,
} from './avro-raw.js';
import type { Rng } from './rng.js';

export const AVRO_KINDS = [
  'bit_flip',
  'truncation',
  'type_confusion',
  'extreme_value',
  'unknown_fingerprint',
  'oversized_string',
  'oversized_map',
] as const;
export type AvroKind = (typeof AVRO_KINDS)[number];

/** One mutated Kafka record value and what was done to it. */
export interface AvroMutation {
  kind: AvroKind;
  /** Which variant of the kind, e.g. `tokens.input=2^53`; printed with failures. */
  variant: string;
  /** The field the mutation wrote into, when it targets one. */
  field?: string;
  bytes: Buffer;
}

/** The enricher's limits the timeliness variants aim at (the defaults of a burnrate process). */
export interface TimeLimits {
  nowMs: number;
  lateHorizonMs: number;
  maxFutureSkewMs: number;
}

const LONG_FIELDS = [
  'occurred_at',
  'tokens.input',
  'tokens.cached_input',
  'tokens.cache_write',
  'tokens.output',
  'tokens.reasoning',
  'requests',
  'units.images',
  'units.audio_ms',
  'units.web_search_calls',
  'latency_ms',
  'provider_reported_cost_nanos',
] as const;
const INT_FIELDS = ['depth', 'attempt'] as const;
const TOKEN_FIELDS = ['input', 'cached_input', 'cache_write', 'output', 'reasoning'];
const UNIT_FIELDS = ['images', 'audio_ms', 'web_search_calls'];

const P = (n: number) => 2n ** BigInt(n);
const EXTREME_LONGS: ReadonlyArray<readonly [string, bigint]> = [
  ['0', 0n],
  ['-1', -1n],
  ['2^31-1', P(31) - 1n],
  ['2^31', P(31)],
  ['2^32', P(32)],
  ['1e9', 1_000_000_000n],
  ['1e9+1', 1_000_000_001n],
  ['2^53-2', P(53) - 2n],
  ['2^53-1', P(53) - 1n],
  ['2^53', P(53)],
  ['2^63-1', P(63) - 1n],
  ['-2^63', -P(63)],
  ['-2^53', -P(53)],
];
const EXTREME_INTS: ReadonlyArray<readonly [string, bigint]> = [
  ['0', 0n],
  ['-1', -1n],
  ['65535', 65_535n],
  ['65536', 65_536n],
  ['2^31-1', P(31) - 1n],
  ['2^31', P(31)],
  ['-2^31', -P(31)],
  ['2^40', P(40)],
];
const EXTREME_DOUBLES: ReadonlyArray<readonly [string, number]> = [
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
  ['-0', -0],
  ['0', 0],
  ['1', 1],
  ['1+eps', 1 + Number.EPSILON],
  ['5e-324', 5e-324],
  ['-5e-324', -5e-324],
  ['1e308', 1e308],
];

function shapeOf(encoded: EncodedEvent, name: string): FieldShape {
  return encoded.segments.find((s) => s.name === name)!.shape;
}

/** The top-level record field of a dotted name, and the segment rewritten with `raw` for it. */
function writeLong(encoded: EncodedEvent, event: UsageEvent, field: string, raw: Buffer): EncodedEvent {
  const [top, sub] = field.split('.') as [string, string | undefined];
  if (sub) {
    const names = top === 'tokens' ? TOKEN_FIELDS : UNIT_FIELDS;
    const values = (event as unknown as Record<string, Record<string, number>>)[top]!;
    const bytes = Buffer.concat(names.map((n) => (n === sub ? raw : rawLong(BigInt(values[n]!)))));
    return withSegment(encoded, top, bytes);
  }
  const shape = shapeOf(encoded, top);
  return withSegment(encoded, top, shape === 'nullable_long' ? Buffer.concat([Buffer.of(2), raw]) : raw);
}

function bitFlip(rng: Rng, event: UsageEvent, encoded: EncodedEvent): AvroMutation {
  const bytes = assemble(encoded);
  if (rng.chance(0.5)) {
    // Inside one string's bytes, where a flip may leave valid UTF-8 and so a valid, different event.
    const strings = encoded.segments.filter((s) => s.shape === 'string' || s.shape === 'nullable_string');
    const offsets = segmentOffsets(encoded);
    const target = rng.pick(strings);
    const { start, end } = offsets.get(target.name)!;
    const value = (event as unknown as Record<string, unknown>)[target.name];
    if (typeof value === 'string' && value.length > 0) {
      const dataStart = end - Buffer.byteLength(value);
      const at = rng.between(dataStart, end - 1);
      bytes[at]! ^= 1 << rng.int(8);
      return { kind: 'bit_flip', variant: 'in_string', field: target.name, bytes };
    }
    void start;
  }
  const flips = rng.between(1, 4);
  let header = false;
  for (let i = 0; i < flips; i++) {
    const at = rng.int(bytes.length);
    if (at < 10) header = true;
    bytes[at]! ^= 1 << rng.int(8);
  }
  return { kind: 'bit_flip', variant: `${flips}_bits${header ? '_header' : ''}`, bytes };
}

function truncation(rng: Rng, encoded: EncodedEvent): AvroMutation {
  const bytes = assemble(encoded);
  const r = rng.next();
  if (r < 0.05) return { kind: 'truncation', variant: 'empty', bytes: Buffer.alloc(0) };
  if (r < 0.15) return { kind: 'truncation', variant: 'header', bytes: bytes.subarray(0, rng.between(1, 9)) };
  if (r < 0.3) {
    const extra = rng.bytes(rng.between(1, 16));
    return { kind: 'truncation', variant: 'trailing_bytes', bytes: Buffer.concat([bytes, extra]) };
  }
  if (r < 0.4)
    return { kind: 'truncation', variant: 'last_byte', bytes: bytes.subarray(0, bytes.length - 1) };
  return { kind: 'truncation', variant: 'body', bytes: bytes.subarray(0, rng.between(10, bytes.length - 1)) };
}

function typeConfusion(rng: Rng, encoded: EncodedEvent): AvroMutation {
  const target = rng.pick(encoded.segments);
  const what = rng.int(8);
  let bytes: Buffer;
  let variant: string;
  const wrongUnion = rng.pick([2n, 3n, -1n, 99n, P(40)]);
  switch (target.shape) {
    case 'string':
      [variant, bytes] = rng.pick<[string, Buffer]>([
        ['long', rawLong(BigInt(rng.between(-1000, 100_000)))],
        ['double', rawDouble(rng.next() * 1e6)],
        ['union_branch', Buffer.concat([Buffer.of(2), rawString('x')])],
        ['map', rawMap([{ entries: [['k', 'v']] }])],
      ]);
      break;
    case 'nullable_string':
    case 'nullable_long':
    case 'nullable_double':
      [variant, bytes] = rng.pick<[string, Buffer]>([
        [`branch_${wrongUnion}`, Buffer.concat([rawLong(wrongUnion), rawString('x')])],
        ['string_in_long_branch', Buffer.concat([Buffer.of(2), rawString('not a number')])],
        ['long_in_branch', Buffer.concat([Buffer.of(2), rawLong(BigInt(rng.between(0, 300)))])],
        ['double_in_branch', Buffer.concat([Buffer.of(2), rawDouble(0.5)])],
        ['bare_value', target.shape === 'nullable_double' ? rawDouble(0.25) : rawString('bare')],
      ]);
      break;
    case 'enum':
      [variant, bytes] = rng.pick<[string, Buffer]>([
        ['index_7', rawLong(7n)],
        ['index_99', rawLong(99n)],
        ['index_-1', rawLong(-1n)],
        ['index_2^40', rawLong(P(40))],
        ['string', rawString('llm_call')],
      ]);
      break;
    case 'long':
    case 'int':
      [variant, bytes] = rng.pick<[string, Buffer]>([
        ['string', rawString(String(rng.int(1000)))],
        ['double', rawDouble(rng.next() * 1e6)],
        ['null_union', Buffer.of(0)],
      ]);
      break;
    case 'record':
      [variant, bytes] = rng.pick<[string, Buffer]>([
        ['map', rawMap([{ entries: [['input', '5']] }])],
        ['strings', Buffer.concat([rawString('1'), rawString('2'), rawString('3')])],
        ['doubles', Buffer.concat([rawDouble(1.5), rawDouble(2.5)])],
      ]);
      break;
    case 'map':
      [variant, bytes] = rng.pick<[string, Buffer]>([
        ['string', rawString('region=eu')],
        ['long_values', Buffer.concat([rawLong(1n), rawString('k'), rawLong(5n), Buffer.of(0)])],
        ['record', Buffer.concat([rawLong(1n), rawLong(2n), rawLong(3n)])],
      ]);
      break;
  }
  if (what === 0) {
    // Two fields swapped: each holds the other's bytes.
    const other = rng.pick(encoded.segments.filter((s) => s.name !== target.name));
    const swapped = withSegment(withSegment(encoded, target.name, other.bytes), other.name, target.bytes);
    return {
      kind: 'type_confusion',
      variant: `swap:${target.name}<->${other.name}`,
      field: target.name,
      bytes: assemble(swapped),
    };
  }
  return {
    kind: 'type_confusion',
    variant: `${target.name}:${variant!}`,
    field: target.name,
    bytes: assemble(withSegment(encoded, target.name, bytes!)),
  };
}

function extremeValue(rng: Rng, event: UsageEvent, encoded: EncodedEvent, limits: TimeLimits): AvroMutation {
  const r = rng.next();
  if (r < 0.15) {
    const { nowMs, lateHorizonMs, maxFutureSkewMs } = limits;
    const [label, value] = rng.pick<[string, number]>([
      ['epoch_0', 0],
      ['before_2000', MIN_OCCURRED_AT_MS - 1],
      ['at_2000', MIN_OCCURRED_AT_MS],
      ['before_2100', MAX_OCCURRED_AT_MS - 1],
      ['at_2100', MAX_OCCURRED_AT_MS],
      ['seconds', Math.floor(nowMs / 1000)],
      ['microseconds', nowMs * 1000],
      ['at_horizon', nowMs - lateHorizonMs],
      ['past_horizon', nowMs - lateHorizonMs - 1],
      ['at_skew', nowMs + maxFutureSkewMs],
      ['past_skew', nowMs + maxFutureSkewMs + 1],
    ]);
    const bytes = assemble(writeLong(encoded, event, 'occurred_at', rawLong(BigInt(value))));
    return { kind: 'extreme_value', variant: `occurred_at=${label}`, field: 'occurred_at', bytes };
  }
  if (r < 0.7) {
    const field = rng.pick(LONG_FIELDS);
    const [label, value] = rng.pick(EXTREME_LONGS);
    const bytes = assemble(writeLong(encoded, event, field, rawLong(value)));
    return { kind: 'extreme_value', variant: `${field}=${label}`, field, bytes };
  }
  if (r < 0.8) {
    const field = rng.pick(LONG_FIELDS);
    const [label, raw] = rng.chance(0.5)
      ? ['overlong_10', overlongVarint(10)]
      : ['varint_11_bytes', Buffer.concat([Buffer.alloc(10, 0xff), Buffer.of(0x01)])];
    return {
      kind: 'extreme_value',
      variant: `${field}=${label}`,
      field,
      bytes: assemble(writeLong(encoded, event, field, raw)),
    };
  }
  if (r < 0.9) {
    const field = rng.pick(INT_FIELDS);
    const [label, value] = rng.pick(EXTREME_INTS);
    const bytes = assemble(withSegment(encoded, field, rawLong(value)));
    return { kind: 'extreme_value', variant: `${field}=${label}`, field, bytes };
  }
  const [label, value] = rng.pick(EXTREME_DOUBLES);
  const bytes = assemble(
    withSegment(encoded, 'quality_score', Buffer.concat([Buffer.of(2), rawDouble(value)])),
  );
  return { kind: 'extreme_value', variant: `quality_score=${label}`, field: 'quality_score', bytes };
}

function unknownFingerprint(rng: Rng, encoded: EncodedEvent): AvroMutation {
  const bytes = assemble(encoded);
  const registry = bundledSchemaRegistry();
  const r = rng.next();
  if (r < 0.4) {
    rng.bytes(8).copy(bytes, 2);
    return { kind: 'unknown_fingerprint', variant: 'random', bytes };
  }
  if (r < 0.6) {
    bytes[rng.between(2, 9)]! ^= 1 << rng.int(8);
    return { kind: 'unknown_fingerprint', variant: 'one_bit_off', bytes };
  }
  if (r < 0.8) {
    // A bundled fingerprint, but not the one the body was written with.
    const other = registry.versions.find((v) => v.version !== encoded.version)!;
    bytes.writeBigUInt64LE(other.fingerprint, 2);
    return { kind: 'unknown_fingerprint', variant: `v${encoded.version}_body_as_v${other.version}`, bytes };
  }
  if (r < 0.9) {
    bytes.writeBigUInt64BE(registry.latest.fingerprint, 2);
    return { kind: 'unknown_fingerprint', variant: 'big_endian', bytes };
  }
  const confluent = Buffer.concat([Buffer.of(0, 0, 0, 0, rng.int(256)), bytes.subarray(10)]);
  return { kind: 'unknown_fingerprint', variant: 'confluent_framing', bytes: confluent };
}

const STRING_FIELDS = ['event_id', 'service', 'customer_ref', 'provider', 'model'] as const;
const NULLABLE_STRINGS = ['user_ref', 'workflow', 'workflow_run_id', 'step_id', 'parent_step_id', 'feature'];

function oversizedString(rng: Rng, encoded: EncodedEvent, sizes: { maxBytes: number }): AvroMutation {
  const field = rng.pick([
    ...STRING_FIELDS,
    ...NULLABLE_STRINGS,
    ...(encoded.version >= 2 ? ['environment', 'request_id'] : []),
  ]);
  const nullable = !STRING_FIELDS.includes(field as (typeof STRING_FIELDS)[number]);
  const wrap = (b: Buffer) => (nullable ? Buffer.concat([Buffer.of(2), b]) : b);
  const r = rng.next();
  let variant: string;
  let bytes: Buffer;
  if (r < 0.35) {
    const [label, length] = rng.pick<[string, bigint]>([
      ['2^31', P(31)],
      ['2^40', P(40)],
      ['2^53-2', P(53) - 2n],
      ['2^62', P(62)],
      ['-1', -1n],
      ['-2^40', -P(40)],
      ['remaining+1', 0n],
    ]);
    // The length prefix lies: only a few bytes follow it.
    const data = Buffer.from('abcdef');
    const prefix = label === 'remaining+1' ? rawLong(10_000n) : rawLong(length);
    variant = `length_prefix=${label}`;
    bytes = wrap(Buffer.concat([prefix, data]));
  } else if (r < 0.37) {
    // Rare: a record near the broker's message limit (its dead letter carries it again, in base64).
    variant = 'length=max_record';
    bytes = wrap(rawString('y'.repeat(Math.max(1, sizes.maxBytes - 400))));
  } else {
    const [label, text] = rng.pick<[string, () => string]>([
      ['256_ascii', () => 'a'.repeat(256)],
      ['257_ascii', () => 'a'.repeat(257)],
      ['256_two_byte', () => 'é'.repeat(256)],
      ['128_astral', () => '😀'.repeat(128)],
      ['129_astral', () => '😀'.repeat(129)],
      ['64KiB', () => 'x'.repeat(65_536)],
    ]);
    variant = `length=${label}`;
    bytes = wrap(rawString(text()));
  }
  return {
    kind: 'oversized_string',
    variant: `${field}:${variant}`,
    field,
    bytes: assemble(withSegment(encoded, field, bytes)),
  };
}

function oversizedMap(rng: Rng, encoded: EncodedEvent): AvroMutation {
  const entries = (n: number, key: (i: number) => string, value: (i: number) => string) =>
    Array.from({ length: n }, (_, i): [string, string] => [key(i), value(i)]);
  const [variant, bytes] = rng.pick<[string, () => Buffer]>([
    ['count=2^31', () => Buffer.concat([rawLong(P(31)), rawString('k'), rawString('v'), Buffer.of(0)])],
    ['count=2^40', () => Buffer.concat([rawLong(P(40)), rawString('k'), rawString('v'), Buffer.of(0)])],
    ['count=2^62', () => Buffer.concat([rawLong(P(62)), rawString('k'), rawString('v'), Buffer.of(0)])],
    [
      'count=-2^40',
      () => Buffer.concat([rawLong(-P(40)), rawLong(4n), rawString('k'), rawString('v'), Buffer.of(0)]),
    ],
    [
      'count=remaining',
      () => Buffer.concat([rawLong(100_000n), rawString('k'), rawString('v'), Buffer.of(0)]),
    ],
    [
      'sized_block',
      () =>
        rawMap([
          {
            entries: entries(
              3,
              (i) => `k${i}`,
              () => 'v',
            ),
            sized: true,
          },
        ]),
    ],
    [
      'one_entry_per_block',
      () =>
        rawMap(
          entries(
            20,
            (i) => `k${i}`,
            () => 'v',
          ).map((e) => ({ entries: [e] })),
        ),
    ],
    [
      'entries=32_at_limits',
      () =>
        rawMap([
          {
            entries: entries(
              32,
              (i) => `${i}`.padStart(64, 'k'),
              () => 'v'.repeat(256),
            ),
          },
        ]),
    ],
    [
      'entries=33',
      () =>
        rawMap([
          {
            entries: entries(
              33,
              (i) => `k${i}`,
              () => 'v',
            ),
          },
        ]),
    ],
    [
      'entries=2000',
      () =>
        rawMap([
          {
            entries: entries(
              2_000,
              (i) => `k${i}`,
              () => 'v',
            ),
          },
        ]),
    ],
    ['key=65', () => rawMap([{ entries: [['k'.repeat(65), 'v']] }])],
    ['key=empty', () => rawMap([{ entries: [['', 'v']] }])],
    ['value=257', () => rawMap([{ entries: [['k', 'v'.repeat(257)]] }])],
    [
      'duplicate_keys',
      () =>
        rawMap([
          {
            entries: [
              ['k', 'first'],
              ['k', 'second'],
            ],
          },
        ]),
    ],
    [
      'key=__proto__',
      () =>
        rawMap([
          {
            entries: [
              ['__proto__', 'polluted'],
              ['k', 'v'],
            ],
          },
        ]),
    ],
    ['key=constructor', () => rawMap([{ entries: [['constructor', 'x']] }])],
  ]);
  return {
    kind: 'oversized_map',
    variant: `tags:${variant}`,
    field: 'tags',
    bytes: assemble(withSegment(encoded, 'tags', bytes())),
  };
}

/**
 * One mutation of `event` of the given kind, written as schema v2 (or v1 for about a tenth of the
 * events that v1 can hold). Pure: the bytes depend only on the generator's state and the inputs.
 */
export function mutateAvro(
  rng: Rng,
  kind: AvroKind,
  event: UsageEvent,
  limits: TimeLimits,
  sizes: { maxBytes: number } = { maxBytes: 900_000 },
): AvroMutation {
  const version = event.step_kind !== 'rerank' && rng.chance(0.1) ? 1 : 2;
  const encoded = encodeSegments(event, version);
  switch (kind) {
    case 'bit_flip':
      return bitFlip(rng, event, encoded);
    case 'truncation':
      return truncation(rng, encoded);
    case 'type_confusion':
      return typeConfusion(rng, encoded);
    case 'extreme_value':
      return extremeValue(rng, event, encoded, limits);
    case 'unknown_fingerprint':
      return unknownFingerprint(rng, encoded);
    case 'oversized_string':
      return oversizedString(rng, encoded, sizes);
    case 'oversized_map':
      return oversizedMap(rng, encoded);
  }
}
