import { PriceCatalog, type PriceEntry, parseCatalog, ValidationError } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { makePriceEntry } from '../fixtures/reference-data.js';

const at = (iso: string) => Date.parse(iso);
const NOW = at('2025-11-01T00:00:00Z');

function errorOf(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

/** The catalog file shape: entries as JSON with optional fields left out. */
function file(entries: Record<string, unknown>[]) {
  return {
    version: 'test.1',
    entries: entries.map((entry) => ({
      id: 'openai/x@2025-01-01',
      provider: 'openai',
      model: 'x',
      valid_from: '2025-01-01',
      tokens_per_million: { input: '1', output: '2' },
      source_url: 'https://example.com',
      as_of: '2025-01-01',
      ...entry,
    })),
  };
}

describe('PriceCatalog.lookup', () => {
  const catalog = new PriceCatalog('test.1', [
    makePriceEntry({
      id: 'snapshot-0513',
      model: 'gpt-4o-2024-05-13',
      tokens_per_million: { input: '5', output: '15' },
    }),
    makePriceEntry({
      id: 'gpt-4o',
      model: 'gpt-4o',
      aliases: ['gpt-4o-2024-08-06'],
      pattern: '^gpt-4o-\\d{4}-\\d{2}-\\d{2}$',
    }),
    makePriceEntry({ id: 'azure-gpt-4o', provider: 'azure_openai', model: 'gpt-4o' }),
    makePriceEntry({ id: 'legacy', model: 'gpt-4o-legacy', aliases: ['gpt-4o-2024-01-01'] }),
  ]);

  it('finds the exact model, an alias, then a pattern', () => {
    expect(catalog.lookup('openai', 'gpt-4o', NOW)?.id).toBe('gpt-4o');
    expect(catalog.lookup('openai', 'gpt-4o-2024-08-06', NOW)?.id).toBe('gpt-4o');
    expect(catalog.lookup('openai', 'gpt-4o-2024-11-20', NOW)?.id).toBe('gpt-4o');
  });

  it('prefers an exact name over a pattern that also matches it', () => {
    expect(catalog.lookup('openai', 'gpt-4o-2024-05-13', NOW)?.id).toBe('snapshot-0513');
  });

  it('prefers an alias over a pattern of another entry', () => {
    expect(catalog.lookup('openai', 'gpt-4o-2024-01-01', NOW)?.id).toBe('legacy');
  });

  it('matches whole names only and ignores case', () => {
    expect(catalog.lookup('openai', 'gpt-4o-2024-11-20-extra', NOW)).toBeUndefined();
    expect(catalog.lookup('openai', 'my-gpt-4o-2024-11-20', NOW)).toBeUndefined();
    expect(catalog.lookup('OpenAI', ' GPT-4o ', NOW)?.id).toBe('gpt-4o');
  });

  it('keeps providers apart and normalizes their spelling', () => {
    expect(catalog.lookup('Azure-OpenAI', 'gpt-4o', NOW)?.id).toBe('azure-gpt-4o');
    expect(catalog.lookup('az.ai.openai', 'gpt-4o', NOW)?.id).toBe('azure-gpt-4o');
    expect(catalog.lookup('anthropic', 'gpt-4o', NOW)).toBeUndefined();
  });

  it('returns undefined for unknown models, so the caller marks the fact unpriced', () => {
    expect(catalog.lookup('openai', 'gpt-7', NOW)).toBeUndefined();
    expect(catalog.lookup('nobody', 'gpt-4o', NOW)).toBeUndefined();
  });

  it('records the catalog version and entry id as price_version', () => {
    expect(catalog.priceVersion(catalog.lookup('openai', 'gpt-4o', NOW)!)).toBe('test.1:gpt-4o');
  });
});

describe('effective dating', () => {
  const catalog = new PriceCatalog('test.1', [
    makePriceEntry({ id: 'o3-launch', model: 'o3', valid_from: '2025-04-16', valid_to: '2025-06-10' }),
    makePriceEntry({ id: 'o3-cut', model: 'o3', valid_from: '2025-06-10' }),
    makePriceEntry({
      id: 'pattern-old',
      model: 'p',
      pattern: '^p-\\d+$',
      valid_from: '2025-01-01',
      valid_to: '2025-03-01',
    }),
  ]);

  it('uses half-open windows [valid_from, valid_to)', () => {
    expect(catalog.lookup('openai', 'o3', at('2025-04-16T00:00:00Z'))?.id).toBe('o3-launch');
    expect(catalog.lookup('openai', 'o3', at('2025-06-09T23:59:59.999Z'))?.id).toBe('o3-launch');
    expect(catalog.lookup('openai', 'o3', at('2025-06-10T00:00:00Z'))?.id).toBe('o3-cut');
    expect(catalog.lookup('openai', 'o3', at('2025-04-15T23:59:59.999Z'))).toBeUndefined();
  });

  it('applies windows to pattern matches too', () => {
    expect(catalog.lookup('openai', 'p-7', at('2025-02-01T00:00:00Z'))?.id).toBe('pattern-old');
    expect(catalog.lookup('openai', 'p-7', at('2025-03-01T00:00:00Z'))).toBeUndefined();
  });

  it('does not let a pattern price a listed name outside its windows', () => {
    const mixed = new PriceCatalog('t', [
      makePriceEntry({ id: 'listed', model: 'm-1', valid_from: '2025-06-01' }),
      makePriceEntry({ id: 'family', model: 'm', pattern: '^m-\\d$', valid_from: '2025-01-01' }),
    ]);
    expect(mixed.lookup('openai', 'm-1', at('2025-03-01T00:00:00Z'))).toBeUndefined();
    expect(mixed.lookup('openai', 'm-2', at('2025-03-01T00:00:00Z'))?.id).toBe('family');
  });

  it('reads zoned date-times', () => {
    const zoned = new PriceCatalog('t', [
      makePriceEntry({ id: 'a', valid_from: '2025-09-05T16:00:00Z', valid_to: '2025-09-29T00:00:00+02:00' }),
    ]);
    expect(zoned.lookup('openai', 'test-model', at('2025-09-05T15:59:59Z'))).toBeUndefined();
    expect(zoned.lookup('openai', 'test-model', at('2025-09-28T21:59:59Z'))?.id).toBe('a');
    expect(zoned.lookup('openai', 'test-model', at('2025-09-28T22:00:00Z'))).toBeUndefined();
  });
});

describe('catalog validation', () => {
  it('accepts a well-formed file', () => {
    const catalog = parseCatalog(file([{ aliases: ['x-1'], tiers: [], fees: { per_request: '0.001' } }]));
    expect(catalog.entries[0]).toMatchObject({
      aliases: ['x-1'],
      pattern: null,
      valid_to: null,
      fees: { per_request: '0.001' },
    });
  });

  it('names the entry and field of a bad price', () => {
    const error = errorOf(() =>
      parseCatalog(file([{ id: 'openai/x@1', tokens_per_million: { input: '2.5e-6', output: '1' } }])),
    );
    expect(error.field).toBe('entries[0].tokens_per_million.input');
    expect(error.message).toContain('"2.5e-6"');
    expect(error.message).toContain('Price entry "openai/x@1"');
    expect(error.code).toBe('invalid_catalog');
  });

  it('names the entry in structural errors', () => {
    const error = errorOf(() => parseCatalog(file([{ id: 'openai/x@1', as_of: 'yesterday' }])));
    expect(error.field).toBe('entries[0].as_of');
    expect(error.message).toContain('Price entry "openai/x@1"');
    expect(error.code).toBe('invalid_catalog');
  });

  it('rejects unknown keys, so a typo cannot silently fall back to another rate', () => {
    const error = errorOf(() =>
      parseCatalog(file([{ tokens_per_million: { input: '1', output: '2', cached_inptu: '0.1' } }])),
    );
    expect(error.field).toBe('entries[0].tokens_per_million.cached_inptu');
  });

  it.each<[string, Partial<PriceEntry>[], string]>([
    [
      'overlapping windows of one model',
      [
        { id: 'a', valid_from: '2025-01-01', valid_to: '2025-07-01' },
        { id: 'b', valid_from: '2025-06-01' },
      ],
      'entries[1].valid_from',
    ],
    [
      'an alias overlapping another model',
      [
        { id: 'a', model: 'x' },
        { id: 'b', model: 'y', aliases: ['X'] },
      ],
      'entries[1].valid_from',
    ],
    [
      'a duplicate id',
      [
        { id: 'a', model: 'x' },
        { id: 'a', model: 'y' },
      ],
      'entries[1].id',
    ],
    ['an unanchored pattern', [{ id: 'a', pattern: 'gpt-4o.*' }], 'entries[0].pattern'],
    ['an invalid pattern', [{ id: 'a', pattern: '^gpt-(4o$' }], 'entries[0].pattern'],
    [
      'valid_to before valid_from',
      [{ id: 'a', valid_from: '2025-06-01', valid_to: '2025-06-01' }],
      'entries[0].valid_to',
    ],
    ['an impossible date', [{ id: 'a', valid_from: '2025-02-30' }], 'entries[0].valid_from'],
    ['a zone-less time', [{ id: 'a', valid_from: '2025-02-01T10:00:00' }], 'entries[0].valid_from'],
    ['an unnormalized provider', [{ id: 'a', provider: 'Azure-OpenAI' }], 'entries[0].provider'],
    [
      'tiers out of order',
      [
        {
          id: 'a',
          tiers: [
            { above_input_tokens: 200_000, tokens_per_million: { input: '2', output: '2' } },
            { above_input_tokens: 128_000, tokens_per_million: { input: '3', output: '3' } },
          ],
        },
      ],
      'entries[0].tiers[1].above_input_tokens',
    ],
    [
      'both audio fees',
      [{ id: 'a', fees: { per_audio_second: '1', per_audio_minute: '60' } }],
      'entries[0].fees.per_audio_minute',
    ],
  ])('rejects %s', (_name, entries, field) => {
    const error = errorOf(
      () =>
        new PriceCatalog(
          't',
          entries.map((entry) => makePriceEntry(entry)),
        ),
    );
    expect(error.field).toBe(field);
    expect(error.code).toBe('invalid_catalog');
  });

  it('allows back-to-back windows and the same name at different providers', () => {
    expect(
      () =>
        new PriceCatalog('t', [
          makePriceEntry({ id: 'a', valid_from: '2025-01-01', valid_to: '2025-06-01' }),
          makePriceEntry({ id: 'b', valid_from: '2025-06-01' }),
          makePriceEntry({ id: 'c', provider: 'azure_openai' }),
        ]),
    ).not.toThrow();
  });

  it('rejects a version that would make price_version ambiguous', () => {
    expect(errorOf(() => new PriceCatalog('v1:2', [])).field).toBe('version');
  });
});
