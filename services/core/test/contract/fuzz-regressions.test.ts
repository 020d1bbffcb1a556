import {
  DecodeError,
  decodeUsageEvent,
  encodeUsageEvent,
  MAX_ATTEMPT,
  MAX_DEPTH,
  MAX_LONG,
  MAX_UINT32,
  type UsageEvent,
  ValidationError,
  validateUsageEvent,
} from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { makeUsageEvent } from '../fixtures/usage-events.js';

/**
 * Regressions for what the fuzz (docs/reliability.md, "Fuzzing") found in the contract: the codec
 * read corrupted strings as other strings, looped for as long as a map's block count said, and lost
 * `__proto__` keys; the validator passed strings with no UTF-8 form and numbers the codec or the
 * fact table cannot hold.
 */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

function fieldAtFault(event: unknown): string | undefined {
  const error = thrown(() => validateUsageEvent(event));
  if (error === undefined) return undefined;
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).field;
}

/** The event encoded, with `from` (ASCII, found once) replaced by `to` of the same length. */
function patched(event: UsageEvent, from: string, to: Buffer): Buffer {
  const bytes = encodeUsageEvent(event);
  const at = bytes.indexOf(Buffer.from(from));
  expect(at).toBeGreaterThan(0);
  expect(bytes.indexOf(Buffer.from(from), at + 1)).toBe(-1);
  to.copy(bytes, at);
  return bytes;
}

describe('decoding corrupted bytes (fuzz regressions)', () => {
  it('refuses a string whose bytes are not UTF-8, naming the field, instead of reading U+FFFD', () => {
    const bytes = patched(
      makeUsageEvent({ customer_ref: 'acme-xy' }),
      'acme-xy',
      Buffer.from('acme-\xff\xfe', 'latin1'),
    );
    const error = thrown(() => decodeUsageEvent(bytes));
    expect(error).toBeInstanceOf(DecodeError);
    expect(error).toMatchObject({ code: 'undecodable', field: 'customer_ref' });
    expect((error as Error).message).toMatch(/customer_ref is not valid UTF-8/);
    // The same for a tag value and for a nullable string.
    const tag = patched(
      makeUsageEvent({ tags: { team: 'growth' } }),
      'growth',
      Buffer.from([0x67, 0xc0, 0xaf, 0x77, 0x74, 0x68]),
    );
    expect(thrown(() => decodeUsageEvent(tag))).toMatchObject({ code: 'undecodable', field: 'tags' });
    const user = patched(
      makeUsageEvent({ user_ref: 'user-17' }),
      'user-17',
      Buffer.from([0x75, 0xed, 0xa0, 0x80, 0x2d, 0x31, 0x37]),
    );
    expect(thrown(() => decodeUsageEvent(user))).toMatchObject({ code: 'undecodable', field: 'user_ref' });
    // Multi-byte text that is valid UTF-8 still decodes.
    const unicode = makeUsageEvent({ customer_ref: 'org_ünïcode 😀' });
    expect(decodeUsageEvent(encodeUsageEvent(unicode)).event.customer_ref).toBe('org_ünïcode 😀');
  });

  it('refuses a map block count larger than the bytes left, at once (it looped 2^40 times)', () => {
    const bytes = encodeUsageEvent(makeUsageEvent({ tags: {}, environment: null, request_id: null }));
    // The body ends with tags (00 = empty map), environment (00) and request_id (00).
    const huge = Buffer.concat([
      bytes.subarray(0, bytes.length - 3),
      Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x02, 0x6b]),
      Buffer.from([0x02, 0x76, 0x00, 0x00, 0x00]),
    ]);
    const started = performance.now();
    const error = thrown(() => decodeUsageEvent(huge));
    expect(performance.now() - started).toBeLessThan(100);
    expect(error).toMatchObject({ code: 'undecodable', field: 'tags' });
    expect((error as Error).message).toMatch(/claims \d+ entries in a block, more than the \d+ bytes left/);
  });

  it('keeps a map key named __proto__ as a key, so validation sees it (it vanished on assignment)', () => {
    const tags = JSON.parse('{"__proto__":"x","k":"v"}') as Record<string, string>;
    const decoded = decodeUsageEvent(encodeUsageEvent(makeUsageEvent({ tags }))).event;
    expect(Object.keys(decoded.tags).sort()).toEqual(['__proto__', 'k']);
    expect(Object.getPrototypeOf(decoded.tags)).toBe(Object.prototype);
    expect(fieldAtFault(decoded)).toBe('tags.__proto__');
  });
});

describe('validating what the codec and the fact table can hold (fuzz regressions)', () => {
  it('refuses strings with a lone surrogate, which have no UTF-8 form (stored as U+FFFD before)', () => {
    expect(fieldAtFault(makeUsageEvent({ customer_ref: 'ab\ud800cd' }))).toBe('customer_ref');
    expect(fieldAtFault(makeUsageEvent({ workflow: '\udc00' }))).toBe('workflow');
    expect(fieldAtFault(makeUsageEvent({ tags: { team: 'x\ud83d' } }))).toBe('tags.team');
    expect(fieldAtFault(makeUsageEvent({ tags: { '\ud83d': 'x' } }))).toBe('tags');
    expect(fieldAtFault(makeUsageEvent({ customer_ref: 'emoji 😀 pairs are fine' }))).toBeUndefined();
  });

  it('refuses longs the codec cannot write (2^53 - 1 passed, then failed to encode)', () => {
    const at = makeUsageEvent({
      latency_ms: MAX_LONG,
      provider_reported_cost_nanos: MAX_LONG,
      units: { images: 0, audio_ms: MAX_LONG, web_search_calls: 0 },
    });
    expect(fieldAtFault(at)).toBeUndefined();
    expect(decodeUsageEvent(encodeUsageEvent(at)).event.units.audio_ms).toBe(MAX_LONG);
    expect(fieldAtFault(makeUsageEvent({ provider_reported_cost_nanos: MAX_LONG + 1 }))).toBe(
      'provider_reported_cost_nanos',
    );
    const audio = makeUsageEvent({
      units: { images: 0, audio_ms: Number.MAX_SAFE_INTEGER, web_search_calls: 0 },
    });
    expect(fieldAtFault(audio)).toBe('units.audio_ms');
  });

  it.each([
    ['depth', { depth: MAX_DEPTH }, { depth: MAX_DEPTH + 1 }],
    ['attempt', { attempt: MAX_ATTEMPT }, { attempt: MAX_ATTEMPT + 1 }],
    ['requests', { requests: MAX_UINT32 }, { requests: MAX_UINT32 + 1 }],
    [
      'units.images',
      { units: { images: MAX_UINT32, audio_ms: 0, web_search_calls: 0 } },
      { units: { images: MAX_UINT32 + 1, audio_ms: 0, web_search_calls: 0 } },
    ],
    [
      'units.web_search_calls',
      { units: { images: 0, audio_ms: 0, web_search_calls: MAX_UINT32 } },
      { units: { images: 0, audio_ms: 0, web_search_calls: MAX_UINT32 + 1 } },
    ],
  ])(
    'refuses %s beyond its ClickHouse column (it was stored wrapped: 65,536 as 0)',
    (field, edge, beyond) => {
      expect(fieldAtFault(makeUsageEvent(edge as Partial<UsageEvent>))).toBeUndefined();
      expect(fieldAtFault(makeUsageEvent(beyond as Partial<UsageEvent>))).toBe(field);
    },
  );
});
