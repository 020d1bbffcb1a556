import { describeValue } from '../money/decimal.js';
import { Fields } from '../reference/fields.js';
import { PriceCatalog } from './catalog.js';
import type { PriceEntry, PriceSchedule, PriceTier, TokenPrices, UnitFees } from './types.js';

const CODE = 'invalid_catalog';
const TOKEN_KEYS = ['input', 'cached_input', 'cache_write', 'output', 'reasoning'] as const;
const FEE_KEYS = [
  'per_request',
  'per_image',
  'per_audio_second',
  'per_audio_minute',
  'per_web_search_call',
] as const;
const ENTRY_KEYS = [
  'id',
  'provider',
  'model',
  'aliases',
  'pattern',
  'valid_from',
  'valid_to',
  'tokens_per_million',
  'tiers',
  'fees',
  'source_url',
  'as_of',
  'notes',
];
const AS_OF = /^\d{4}-\d{2}-\d{2}$/;

export function readTokenPrices(fields: Fields): TokenPrices {
  fields.onlyKeys(TOKEN_KEYS);
  const prices: TokenPrices = { input: fields.decimal('input'), output: fields.decimal('output') };
  for (const key of ['cached_input', 'cache_write', 'reasoning'] as const) {
    const value = fields.optionalDecimal(key);
    if (value !== undefined) prices[key] = value;
  }
  return prices;
}

function readFees(fields: Fields): UnitFees {
  fields.onlyKeys(FEE_KEYS);
  const fees: UnitFees = {};
  for (const key of FEE_KEYS) {
    const value = fields.optionalDecimal(key);
    if (value !== undefined) fees[key] = value;
  }
  return fees;
}

function readTiers(fields: Fields, where: string, path: string): PriceTier[] {
  return fields.list('tiers').map((raw, i) => {
    const tier = Fields.of(raw, where, `${path}.tiers[${i}]`, CODE);
    tier.onlyKeys(['above_input_tokens', 'tokens_per_million']);
    return {
      above_input_tokens: tier.integer('above_input_tokens', 1),
      tokens_per_million: readTokenPrices(tier.nested('tokens_per_million')),
    };
  });
}

/** Reads the rates, tiers and fees shared by catalog entries and price overrides. */
export function readSchedule(fields: Fields, where: string, path: string): PriceSchedule {
  return {
    tokens_per_million: readTokenPrices(fields.nested('tokens_per_million')),
    tiers: readTiers(fields, where, path),
    fees: fields.has('fees') ? readFees(fields.nested('fees')) : {},
  };
}

function readEntry(raw: unknown, index: number): PriceEntry {
  const path = `entries[${index}]`;
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
  const where = `Price entry ${typeof id === 'string' ? `"${id}" ` : ''}(${path})`;
  const fields = Fields.of(raw, where, path, CODE);
  fields.onlyKeys(ENTRY_KEYS);
  fields.window();
  const asOf = fields.string('as_of');
  if (!AS_OF.test(asOf)) fields.fail('as_of', `must be a date YYYY-MM-DD, got ${describeValue(asOf)}`);
  return {
    id: fields.string('id'),
    provider: fields.string('provider'),
    model: fields.string('model'),
    aliases: fields.stringList('aliases'),
    pattern: fields.optionalString('pattern'),
    valid_from: fields.string('valid_from'),
    valid_to: fields.optionalString('valid_to'),
    ...readSchedule(fields, where, path),
    source_url: fields.string('source_url'),
    as_of: asOf,
    notes: fields.optionalString('notes'),
  };
}

/**
 * Validates a parsed catalog file `{ version, description?, entries: [...] }` and builds the catalog.
 * @throws ValidationError (code `invalid_catalog`) naming the entry and field at fault.
 */
export function parseCatalog(value: unknown): PriceCatalog {
  const file = Fields.of(value, 'Price catalog', '', CODE);
  file.onlyKeys(['version', 'description', 'entries']);
  const version = file.string('version');
  const entries = file.list('entries').map(readEntry);
  return new PriceCatalog(version, entries);
}
