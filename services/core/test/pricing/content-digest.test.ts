import {
  canonicalCatalog,
  canonicalOverrides,
  catalogDigest,
  loadBundledCatalog,
  overridesDigest,
  PriceOverrides,
  parseCatalog,
} from '@burnrate/core';
import { describe, expect, it } from 'vitest';

const entry = {
  id: 'openai/gpt-4o@2024',
  provider: 'openai',
  model: 'gpt-4o',
  aliases: ['gpt-4o-2024-08-06', 'gpt-4o-2024-11-20'],
  valid_from: '2024-01-01',
  valid_to: null,
  tokens_per_million: { input: '2.50', cached_input: '1.25', output: '10.00' },
  tiers: [{ above_input_tokens: 200000, tokens_per_million: { input: '5.00', output: '20' } }],
  fees: { per_web_search_call: '0.010' },
  source_url: 'https://example.com/pricing',
  as_of: '2026-01-01',
};
const catalog = { version: 'v1', entries: [entry] };

/** The same prices written differently: key order, trailing zeros, a zoned date-time, name case. */
const reformatted = {
  entries: [
    {
      as_of: '2026-01-01',
      source_url: 'https://example.com/pricing',
      fees: { per_web_search_call: '0.01' },
      tiers: [{ tokens_per_million: { output: '20.000', input: '5' }, above_input_tokens: 200000 }],
      tokens_per_million: { output: '10', cached_input: '1.250', input: '2.5' },
      valid_from: '2024-01-01T00:00:00Z',
      aliases: ['GPT-4o-2024-11-20', 'gpt-4o-2024-08-06', 'gpt-4o-2024-08-06'],
      model: 'GPT-4o',
      provider: 'openai',
      id: 'openai/gpt-4o@2024',
    },
  ],
  description: 'a description is not content',
  version: 'v1',
};

describe('content digests of a catalog and of overrides', () => {
  it('are equal for the same prices written differently', () => {
    const a = parseCatalog(catalog);
    const b = parseCatalog(reformatted);
    expect(canonicalCatalog(b)).toBe(canonicalCatalog(a));
    expect(catalogDigest(b)).toBe(catalogDigest(a));
    expect(catalogDigest(a)).toMatch(/^[0-9a-f]{16}$/);
    // Negative control: the parsed objects as JSON (what was digested before) differ.
    expect(JSON.stringify(b.entries)).not.toBe(JSON.stringify(a.entries));
  });

  it('differ when a price, a window, a name or a note changes, and ignore the version', () => {
    const base = catalogDigest(parseCatalog(catalog));
    const changed = (patch: object) =>
      catalogDigest(parseCatalog({ version: 'v1', entries: [{ ...entry, ...patch }] }));
    expect(changed({ tokens_per_million: { input: '2.51', cached_input: '1.25', output: '10' } })).not.toBe(
      base,
    );
    expect(changed({ valid_from: '2024-01-02' })).not.toBe(base);
    expect(changed({ aliases: ['gpt-4o-2024-08-06'] })).not.toBe(base);
    expect(changed({ notes: 'batch not modelled' })).not.toBe(base);
    expect(changed({ fees: {} })).not.toBe(base);
    expect(catalogDigest(parseCatalog({ ...catalog, version: 'v2' }))).toBe(base);
    expect(canonicalCatalog(parseCatalog({ ...catalog, version: 'v2' }))).not.toBe(
      canonicalCatalog(parseCatalog(catalog)),
    );
  });

  it('keep entry order, which decides which pattern matches first', () => {
    const second = { ...entry, id: 'openai/gpt-4o-mini@2024', model: 'gpt-4o-mini', aliases: [] };
    const ab = parseCatalog({ version: 'v1', entries: [entry, second] });
    const ba = parseCatalog({ version: 'v1', entries: [second, entry] });
    expect(catalogDigest(ab)).not.toBe(catalogDigest(ba));
  });

  it('normalise overrides the same way', () => {
    const a = PriceOverrides.parse({
      version: 'o1',
      overrides: [
        { id: 'd', customer_id: 'acme', kind: 'discount', discount: '0.50', valid_from: '2026-01-01' },
        {
          id: 'p',
          customer_id: 'acme',
          kind: 'price',
          provider: 'openai',
          model: 'gpt-4o',
          valid_from: '2026-01-01',
          prices: { tokens_per_million: { input: '2.00', output: '8.00' } },
        },
      ],
    });
    const b = PriceOverrides.parse({
      overrides: [
        {
          valid_from: '2026-01-01T01:00:00+01:00',
          discount: '0.5',
          kind: 'discount',
          customer_id: 'acme',
          id: 'd',
        },
        {
          id: 'p',
          customer_id: 'acme',
          kind: 'price',
          provider: 'openai',
          model: 'GPT-4o',
          valid_from: '2026-01-01',
          valid_to: null,
          prices: { tokens_per_million: { output: '8', input: '2' }, tiers: [], fees: {} },
        },
      ],
      version: 'o1',
    });
    expect(canonicalOverrides(b)).toBe(canonicalOverrides(a));
    expect(overridesDigest(b)).toBe(overridesDigest(a));
    const c = PriceOverrides.parse({
      version: 'o1',
      overrides: [
        { id: 'd', customer_id: 'acme', kind: 'discount', discount: '0.51', valid_from: '2026-01-01' },
      ],
    });
    expect(overridesDigest(c)).not.toBe(overridesDigest(a));
    expect(overridesDigest(PriceOverrides.empty('x'))).toBe(overridesDigest(PriceOverrides.empty('y')));
  });

  it('digest the whole bundled catalog', () => {
    expect(catalogDigest(loadBundledCatalog())).toMatch(/^[0-9a-f]{16}$/);
  });
});
