import {
  checkEventTimeliness,
  ENRICHED_EVENT_COLUMNS,
  enrichEvent,
  enrichedEventValues,
  PriceOverrides,
  type UsageEvent,
  ValidationError,
} from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { makeReferenceData } from '../fixtures/reference-data.js';
import { makeUsageEvent } from '../fixtures/usage-events.js';

const meta = {
  topic: 'usage.events',
  partition: 3,
  offset: '9007199254740993',
  ingestedAtMs: Date.UTC(2026, 0, 2, 12, 31),
};

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('enrichEvent', () => {
  const ref = makeReferenceData();

  it('flattens, attributes and prices an event', () => {
    // 1000 input × $2.50/M + 2048 cached × $1.25/M + 300 output × $10/M + 128 reasoning × $10/M + 1 search × $0.025
    const row = enrichEvent(makeUsageEvent(), ref, meta);
    expect(row).toMatchObject({
      customer_id: 'cus_acme',
      customer_name: 'Acme Corp',
      team: 'enterprise-sales',
      plan_kind: 'flat_rate',
      unmapped: 0,
      tokens_input: 1000,
      tokens_cached_input: 2048,
      tokens_cache_write: 0,
      tokens_output: 300,
      tokens_reasoning: 128,
      units_web_search_calls: 1,
      cost_input_nanos: 2_500_000,
      cost_cached_input_nanos: 2_560_000,
      cost_cache_write_nanos: 0,
      cost_output_nanos: 3_000_000,
      cost_reasoning_nanos: 1_280_000,
      cost_request_nanos: 0,
      cost_units_nanos: 25_000_000,
      cost_total_nanos: 34_340_000,
      price_version: 'test.1:openai/gpt-4o@2024-10-02',
      unpriced: 0,
      byok: 0,
      source_topic: 'usage.events',
      source_partition: 3,
      source_offset: '9007199254740993',
      occurred_at: Date.UTC(2026, 0, 2, 12, 30),
      ingested_at: Date.UTC(2026, 0, 2, 12, 31),
    });
  });

  it('emits exactly the exported columns, in order', () => {
    const row = enrichEvent(makeUsageEvent(), ref, meta);
    expect(Object.keys(row)).toEqual([...ENRICHED_EVENT_COLUMNS]);
  });

  it('lists its values in column order (enrichedEventValues)', () => {
    const row = enrichEvent(makeUsageEvent({ tags: { a: 'b' } }), ref, meta);
    // Distinct values per column, so a swapped pair of columns cannot go unnoticed.
    const marked = Object.fromEntries(ENRICHED_EVENT_COLUMNS.map((c, i) => [c, `v${i}`])) as never;
    expect(enrichedEventValues(marked)).toEqual(ENRICHED_EVENT_COLUMNS.map((_, i) => `v${i}`));
    expect(enrichedEventValues(row)).toEqual(ENRICHED_EVENT_COLUMNS.map((c) => row[c]));
  });

  it('is deterministic and leaves its inputs untouched', () => {
    const event = deepFreeze(makeUsageEvent({ tags: { zone: 'b', app: 'a' } }));
    const first = enrichEvent(event, ref, meta);
    const second = enrichEvent(structuredClone(event) as UsageEvent, makeReferenceData(), { ...meta });
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    expect(Object.keys(first.tags)).toEqual(['app', 'zone']);
    expect(first.tags).not.toBe(event.tags);
  });

  it('keeps an unknown model as unpriced, never as a real $0', () => {
    const row = enrichEvent(makeUsageEvent({ model: 'gpt-9' }), ref, meta);
    expect(row).toMatchObject({
      unpriced: 1,
      cost_total_nanos: 0,
      price_version: '',
      byok: 0,
      customer_id: 'cus_acme',
    });
  });

  it('attributes an unknown customer to unmapped:<ref>', () => {
    const row = enrichEvent(makeUsageEvent({ customer_ref: 'globex' }), ref, meta);
    expect(row).toMatchObject({
      customer_id: 'unmapped:globex',
      customer_name: '',
      team: '',
      plan_kind: '',
      unmapped: 1,
      unpriced: 0,
    });
    expect(row.cost_total_nanos).toBeGreaterThan(0);
  });

  it('flags units the price has no fee for as unpriced while keeping the token cost', () => {
    const row = enrichEvent(
      makeUsageEvent({ units: { images: 2, audio_ms: 0, web_search_calls: 0 } }),
      ref,
      meta,
    );
    expect(row.unpriced).toBe(1);
    expect(row.cost_input_nanos).toBe(2_500_000);
    expect(row.price_version).toBe('test.1:openai/gpt-4o@2024-10-02');
  });

  it('books BYOK usage at zero cost, priced, with the byok marker', () => {
    const byokRef = makeReferenceData({
      version: 'ov.1',
      overrides: [
        {
          id: 'acme-byok',
          customer_id: 'cus_acme',
          kind: 'byok',
          provider: 'openai',
          valid_from: '2025-01-01',
        },
      ],
    });
    const row = enrichEvent(makeUsageEvent(), byokRef, meta);
    expect(row).toMatchObject({
      byok: 1,
      unpriced: 0,
      cost_total_nanos: 0,
      price_version: 'test.1:openai/gpt-4o@2024-10-02+ov.1:acme-byok',
    });
  });

  it('applies a customer discount', () => {
    const discounted = {
      ...ref,
      overrides: PriceOverrides.parse({
        version: 'ov.1',
        overrides: [
          { id: 'd', customer_id: 'cus_acme', kind: 'discount', discount: '0.5', valid_from: '2025-01-01' },
        ],
      }),
    };
    expect(enrichEvent(makeUsageEvent(), discounted, meta).cost_total_nanos).toBe(17_170_000);
  });

  it('refuses malformed source metadata and bad counts', () => {
    expect(() => enrichEvent(makeUsageEvent(), ref, { ...meta, offset: '-1' })).toThrow(ValidationError);
    expect(() => enrichEvent(makeUsageEvent(), ref, { ...meta, partition: -1 })).toThrow(/source_partition/);
    const bad = makeUsageEvent({
      tokens: { input: -5, cached_input: 0, cache_write: 0, output: 0, reasoning: 0 },
    });
    expect(() => enrichEvent(bad, ref, meta)).toThrow(/tokens.input/);
  });
});

describe('checkEventTimeliness', () => {
  const now = Date.UTC(2026, 0, 2);
  const limits = { lateHorizonMs: 86_400_000, maxFutureSkewMs: 60_000 };

  it.each([
    [now, null],
    [now - 86_400_000, null],
    [now - 86_400_001, 'too_old'],
    [now + 60_000, null],
    [now + 60_001, 'in_future'],
  ])('occurred_at %d → %s', (occurredAt, reason) => {
    expect(checkEventTimeliness({ occurred_at: occurredAt }, now, limits)).toBe(reason);
  });
});
