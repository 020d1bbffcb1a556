import { computeCost, PriceOverrides, resolvePrice, ValidationError } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { makeReferenceData, makeUsage } from '../fixtures/reference-data.js';

const NOW = Date.parse('2025-11-01T00:00:00Z');
const base = { customer_id: 'cus_acme', valid_from: '2025-01-01' };

function overrides(...list: Record<string, unknown>[]) {
  return { version: 'ov.1', overrides: list.map((item, i) => ({ id: `o${i}`, ...base, ...item })) };
}

function resolve(
  file: unknown,
  model = 'gpt-4o',
  customerId: string | null = 'cus_acme',
  occurredAtMs = NOW,
) {
  const { prices, overrides: set } = makeReferenceData(file);
  return resolvePrice(prices, set, { provider: 'openai', model, customerId, occurredAtMs });
}

describe('price overrides', () => {
  it('prices from the catalog alone when there is no override', () => {
    const resolution = resolve(undefined);
    expect(resolution).toMatchObject({
      priced: true,
      byok: false,
      discount: undefined,
      price_version: 'test.1:openai/gpt-4o@2024-10-02',
    });
  });

  it('applies a customer-wide discount and records it in price_version', () => {
    const resolution = resolve(overrides({ kind: 'discount', discount: '0.15' }));
    if (!resolution.priced) throw new Error('expected priced');
    expect(resolution.discount).toBe('0.15');
    expect(resolution.price_version).toBe('test.1:openai/gpt-4o@2024-10-02+ov.1:o0');
    const cost = computeCost(makeUsage({ input: 1_000_000 }), resolution.schedule!, {
      discount: resolution.discount,
    });
    expect(cost.input_nanos).toBe(2_125_000_000); // $2.50 × 0.85
  });

  it('lets a model price override beat a provider-wide discount', () => {
    const resolution = resolve(
      overrides(
        { kind: 'discount', discount: '0.1', provider: 'openai' },
        {
          kind: 'price',
          provider: 'openai',
          model: 'gpt-4o',
          prices: { tokens_per_million: { input: '1', output: '4' } },
        },
      ),
      'gpt-4o-2024-11-20', // matches the override through the catalog's canonical model
    );
    if (!resolution.priced) throw new Error('expected priced');
    expect(resolution.override?.id).toBe('o1');
    expect(resolution.price_version).toBe('test.1:-+ov.1:o1');
    expect(computeCost(makeUsage({ input: 1_000_000 }), resolution.schedule!).input_nanos).toBe(
      1_000_000_000,
    );
  });

  it('prices a model the catalog lacks when a price override names it', () => {
    const file = overrides({
      kind: 'price',
      provider: 'openai',
      model: 'ft:gpt-4o:acme',
      prices: { tokens_per_million: { input: '3.75', output: '15' } },
    });
    expect(resolve(file, 'ft:gpt-4o:acme')).toMatchObject({ priced: true });
    expect(resolve(undefined, 'ft:gpt-4o:acme')).toEqual({ priced: false });
  });

  it('marks bring-your-own-key usage priced at zero, even for unknown models', () => {
    const file = overrides({ kind: 'byok', provider: 'openai' });
    expect(resolve(file)).toMatchObject({
      priced: true,
      byok: true,
      schedule: null,
      price_version: 'test.1:openai/gpt-4o@2024-10-02+ov.1:o0',
    });
    expect(resolve(file, 'gpt-9')).toMatchObject({
      priced: true,
      byok: true,
      price_version: 'test.1:-+ov.1:o0',
    });
  });

  it('is effective-dated', () => {
    const file = overrides({ kind: 'byok', valid_from: '2025-06-01', valid_to: '2025-07-01' });
    expect(resolve(file, 'gpt-4o', 'cus_acme', Date.parse('2025-06-15T00:00:00Z'))).toMatchObject({
      byok: true,
    });
    expect(resolve(file, 'gpt-4o', 'cus_acme', Date.parse('2025-07-01T00:00:00Z'))).toMatchObject({
      byok: false,
    });
    expect(resolve(file, 'gpt-4o', 'cus_acme', Date.parse('2025-05-31T23:59:59Z'))).toMatchObject({
      byok: false,
    });
  });

  it('applies only to its customer, never to unmapped ones', () => {
    const file = overrides({ kind: 'byok' });
    expect(resolve(file, 'gpt-4o', 'cus_other')).toMatchObject({ byok: false });
    expect(resolve(file, 'gpt-4o', null)).toMatchObject({ byok: false });
  });

  it('does not price an unknown model from a discount alone', () => {
    expect(resolve(overrides({ kind: 'discount', discount: '0.2' }), 'gpt-9')).toEqual({ priced: false });
  });

  it.each([
    ['a discount above 1', [{ kind: 'discount', discount: '1.5' }], 'overrides[0].discount'],
    ['a discount in exponent form', [{ kind: 'discount', discount: '1e-1' }], 'overrides[0].discount'],
    [
      'a price override without a model',
      [{ kind: 'price', provider: 'openai', prices: { tokens_per_million: { input: '1', output: '1' } } }],
      'overrides[0].model',
    ],
    ['a model without a provider', [{ kind: 'byok', model: 'gpt-4o' }], 'overrides[0].provider'],
    ['an unknown kind', [{ kind: 'free' }], 'overrides[0].kind'],
    [
      'overlapping windows for the same scope',
      [{ kind: 'byok' }, { kind: 'discount', discount: '0.1', valid_from: '2025-03-01' }],
      'overrides[1].valid_from',
    ],
  ])('rejects %s', (_name, list, field) => {
    try {
      PriceOverrides.parse(overrides(...(list as Record<string, unknown>[])));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
      expect((error as ValidationError).code).toBe('invalid_override');
    }
  });
});
