import {
  MAX_ID_LENGTH,
  MAX_TAG_KEY_LENGTH,
  MAX_TAG_VALUE_LENGTH,
  MAX_TAGS,
  MAX_TOKENS_PER_BUCKET,
  newEventId,
  type UsageEvent,
  ValidationError,
  validateUsageEvent,
} from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { makeUsageEvent } from '../fixtures/usage-events.js';

function fieldAtFault(input: unknown): string | undefined {
  try {
    validateUsageEvent(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('invalid_event');
    expect((error as Error).message).toMatch(/\.$/);
    return (error as ValidationError).field;
  }
  return undefined;
}

const base = makeUsageEvent();
const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));

describe('validateUsageEvent', () => {
  it('returns the very event it was given when it is valid', () => {
    expect(validateUsageEvent(base)).toBe(base);
    expect(fieldAtFault(makeUsageEvent({ event_id: newEventId() }))).toBeUndefined();
    expect(fieldAtFault(makeUsageEvent({ environment: 'production', request_id: 'req_1' }))).toBeUndefined();
    expect(
      fieldAtFault(makeUsageEvent({ environment: null, quality_score: null, latency_ms: null })),
    ).toBeUndefined();
  });

  it('accepts the edges of every range', () => {
    const edges = makeUsageEvent({
      quality_score: 0,
      depth: 0,
      tokens: { input: MAX_TOKENS_PER_BUCKET, cached_input: 0, cache_write: 0, output: 0, reasoning: 0 },
      tags: { ...tags(MAX_TAGS - 1), ['k'.repeat(MAX_TAG_KEY_LENGTH)]: 'v'.repeat(MAX_TAG_VALUE_LENGTH) },
      customer_ref: 'c'.repeat(MAX_ID_LENGTH),
    });
    expect(fieldAtFault(edges)).toBeUndefined();
    expect(fieldAtFault(makeUsageEvent({ quality_score: 1 }))).toBeUndefined();
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ['missing customer_ref', { customer_ref: undefined }, 'customer_ref'],
    ['empty customer_ref', { customer_ref: '' }, 'customer_ref'],
    ['empty service', { service: '' }, 'service'],
    ['missing provider', { provider: undefined }, 'provider'],
    ['numeric model', { model: 4 }, 'model'],
    ['over-long customer_ref', { customer_ref: 'x'.repeat(MAX_ID_LENGTH + 1) }, 'customer_ref'],
    ['over-long step_id', { step_id: 'x'.repeat(MAX_ID_LENGTH + 1) }, 'step_id'],
    ['empty workflow instead of null', { workflow: '' }, 'workflow'],
    ['missing user_ref', { user_ref: undefined }, 'user_ref'],
    ['empty environment', { environment: '' }, 'environment'],
    ['non-UUID event_id', { event_id: 'evt-1' }, 'event_id'],
    ['upper-case event_id', { event_id: '0198F2A4-3B1C-7D2E-9F40-5A6B7C8D9E0F' }, 'event_id'],
    ['fractional occurred_at', { occurred_at: 1767225600000.5 }, 'occurred_at'],
    ['ISO string occurred_at', { occurred_at: '2026-01-01T00:00:00Z' }, 'occurred_at'],
    ['occurred_at in seconds', { occurred_at: 1767225600 }, 'occurred_at'],
    ['occurred_at in microseconds', { occurred_at: 1767225600000000 }, 'occurred_at'],
    ['unknown step_kind', { step_kind: 'thinking' }, 'step_kind'],
    ['unknown status', { status: 'failed' }, 'status'],
    ['negative depth', { depth: -1 }, 'depth'],
    ['fractional depth', { depth: 0.5 }, 'depth'],
    ['attempt 0', { attempt: 0 }, 'attempt'],
    ['negative requests', { requests: -2 }, 'requests'],
    ['string requests', { requests: '1' }, 'requests'],
    ['missing tokens', { tokens: undefined }, 'tokens'],
    ['negative input tokens', { tokens: { ...base.tokens, input: -1 } }, 'tokens.input'],
    ['fractional output tokens', { tokens: { ...base.tokens, output: 2.5 } }, 'tokens.output'],
    ['NaN reasoning tokens', { tokens: { ...base.tokens, reasoning: Number.NaN } }, 'tokens.reasoning'],
    ['missing cache_write', { tokens: { ...base.tokens, cache_write: undefined } }, 'tokens.cache_write'],
    [
      'implausible token count',
      { tokens: { ...base.tokens, cached_input: MAX_TOKENS_PER_BUCKET + 1 } },
      'tokens.cached_input',
    ],
    ['negative images', { units: { ...base.units, images: -1 } }, 'units.images'],
    ['fractional audio_ms', { units: { ...base.units, audio_ms: 1.5 } }, 'units.audio_ms'],
    ['units as an array', { units: [] }, 'units'],
    ['negative latency', { latency_ms: -5 }, 'latency_ms'],
    ['fractional cost', { provider_reported_cost_nanos: 0.5 }, 'provider_reported_cost_nanos'],
    ['quality above 1', { quality_score: 1.01 }, 'quality_score'],
    ['quality below 0', { quality_score: -0.1 }, 'quality_score'],
    ['NaN quality', { quality_score: Number.NaN }, 'quality_score'],
    ['too many tags', { tags: tags(MAX_TAGS + 1) }, 'tags'],
    ['over-long tag key', { tags: { ['k'.repeat(MAX_TAG_KEY_LENGTH + 1)]: 'v' } }, 'tags'],
    ['empty tag key', { tags: { '': 'v' } }, 'tags'],
    ['over-long tag value', { tags: { team: 'v'.repeat(MAX_TAG_VALUE_LENGTH + 1) } }, 'tags.team'],
    ['numeric tag value', { tags: { n: 1 } }, 'tags.n'],
    ['null tags', { tags: null }, 'tags'],
  ];

  it.each(cases)('rejects %s', (_, overrides, field) => {
    expect(fieldAtFault({ ...base, ...overrides })).toBe(field);
  });

  it('rejects what is not an object', () => {
    expect(fieldAtFault(null)).toBe('event');
    expect(fieldAtFault([base])).toBe('event');
  });

  it('says what the sanity bound on tokens is', () => {
    const event: UsageEvent = { ...base, tokens: { ...base.tokens, output: 2e9 } };
    expect(() => validateUsageEvent(event)).toThrow(
      'tokens.output is 2000000000, above the sanity bound of 1000000000 tokens per call.',
    );
  });
});
