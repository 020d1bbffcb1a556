import { createHash } from 'node:crypto';
import { formatDecimal, parseDecimal } from '../money/decimal.js';
import { formatInstant, instantMs } from '../reference/effective.js';
import type { PriceCatalog } from './catalog.js';
import { normalizeModel } from './normalize.js';
import type { PriceOverride, PriceOverrides } from './overrides.js';
import type { PriceEntry, PriceSchedule, PriceTier, TokenPrices, UnitFees } from './types.js';

/**
 * What a catalog or an overrides file means, independent of how its file was written: the parsed,
 * validated objects with every exact decimal in its shortest form ("2.50" → "2.5"), every instant as
 * UTC ISO text ("2025-01-01" → "2025-01-01T00:00:00.000Z"), model names and aliases as they are
 * matched (trimmed, lower case; aliases sorted, duplicates dropped), printed as JSON with sorted keys.
 * Whitespace, key order, JSON or YAML, and a `description` do not change it; any price, window, id,
 * name, pattern, source or note does. Entry and override order is kept (patterns match in order).
 */
export function canonicalCatalog(catalog: PriceCatalog): string {
  return stableJson({ version: catalog.version, entries: catalog.entries.map(canonicalEntry) });
}

/** The same for per-customer overrides (see canonicalCatalog). */
export function canonicalOverrides(overrides: PriceOverrides): string {
  return stableJson({ version: overrides.version, overrides: overrides.overrides.map(canonicalOverride) });
}

/**
 * A short digest (16 hex digits of SHA-256) of the canonical content, without the version: two files
 * with equal digests price every event the same way, whatever their formatting.
 */
export function catalogDigest(catalog: PriceCatalog): string {
  return digest(catalog.entries.map(canonicalEntry));
}

/** The digest of the overrides' canonical content, without the version (see catalogDigest). */
export function overridesDigest(overrides: PriceOverrides): string {
  return digest(overrides.overrides.map(canonicalOverride));
}

function digest(content: unknown): string {
  return createHash('sha256').update(stableJson(content)).digest('hex').slice(0, 16);
}

const decimal = (text: string) => formatDecimal(parseDecimal(text, 'price'));

/** Validated instants always parse; the fallback keeps the text should that ever change. */
const instant = (text: string) => {
  const ms = instantMs(text);
  return ms === undefined ? text : formatInstant(ms);
};

const names = (list: readonly string[]) => [...new Set(list.map(normalizeModel))].sort();

function canonicalRates(prices: TokenPrices): Record<string, string> {
  return Object.fromEntries(
    Object.entries(prices).flatMap(([key, value]) =>
      typeof value === 'string' ? [[key, decimal(value)]] : [],
    ),
  );
}

function canonicalFees(fees: UnitFees): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fees).flatMap(([key, value]) =>
      typeof value === 'string' ? [[key, decimal(value)]] : [],
    ),
  );
}

function canonicalSchedule(schedule: PriceSchedule) {
  return {
    tokens_per_million: canonicalRates(schedule.tokens_per_million),
    tiers: schedule.tiers.map((tier: PriceTier) => ({
      above_input_tokens: tier.above_input_tokens,
      tokens_per_million: canonicalRates(tier.tokens_per_million),
    })),
    fees: canonicalFees(schedule.fees),
  };
}

function canonicalEntry(entry: PriceEntry) {
  return {
    id: entry.id,
    provider: entry.provider,
    model: normalizeModel(entry.model),
    aliases: names(entry.aliases),
    pattern: entry.pattern,
    valid_from: instant(entry.valid_from),
    valid_to: entry.valid_to === null ? null : instant(entry.valid_to),
    ...canonicalSchedule(entry),
    source_url: entry.source_url,
    as_of: entry.as_of,
    notes: entry.notes,
  };
}

function canonicalOverride(override: PriceOverride) {
  const base = {
    id: override.id,
    customer_id: override.customer_id,
    kind: override.kind,
    provider: override.provider,
    model: override.model === null ? null : normalizeModel(override.model),
    valid_from: instant(override.valid_from),
    valid_to: override.valid_to === null ? null : instant(override.valid_to),
  };
  if (override.kind === 'discount') return { ...base, discount: decimal(override.discount) };
  if (override.kind === 'price') return { ...base, prices: canonicalSchedule(override.prices) };
  return base;
}

/** JSON with object keys sorted at every level, no whitespace; `undefined` members are left out. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => stableJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}
