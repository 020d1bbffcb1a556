import { type Decimal, decimalFromNumber, formatDecimal, shiftDecimal } from '../money/decimal.js';
import { ENTRY_ID_TEXT } from './catalog.js';
import { normalizeModel, normalizeProvider } from './normalize.js';
import type { PriceEntry, TokenPrices } from './types.js';

/**
 * Imports LiteLLM's model_prices_and_context_window.json. Per-token USD costs there are JSON
 * numbers (2.5e-06); each is read through its shortest round-trip decimal text and shifted six
 * places in decimal arithmetic to a per-million string, so "2.5e-06" becomes exactly "2.5".
 * An entry whose price we cannot represent faithfully is reported in `skipped`, never guessed.
 */
export interface LiteLlmImportOptions {
  /** valid_from of every imported entry (ISO-8601); ids are `<provider>/<model>@<this date>`. */
  validFrom: string;
  /** The date the file was downloaded, YYYY-MM-DD. */
  asOf: string;
  sourceUrl?: string;
  /** Only import these normalized providers, e.g. ['openai', 'anthropic']. */
  providers?: readonly string[];
  /**
   * LiteLLM keys the operator declares free of charge. LiteLLM writes 0 both for free models and
   * for prices nobody filled in (placeholders, previews), so a $0 entry is imported only when its
   * key is listed here or its model name ends in `:free` (OpenRouter's free variants).
   */
  free?: readonly string[];
}

/** Why an entry was left out, for counting: the reason text says it for this key. */
export type LiteLlmSkipKind =
  | 'not_an_entry'
  | 'not_token_priced'
  | 'unsupported_cost_field'
  | 'missing_price'
  | 'invalid_price'
  | 'zero_price'
  | 'duplicate'
  | 'invalid_name';

export interface LiteLlmSkip {
  key: string;
  kind: LiteLlmSkipKind;
  reason: string;
}

type Refusal = Omit<LiteLlmSkip, 'key'>;
const refuse = (kind: LiteLlmSkipKind, reason: string): Refusal => ({ kind, reason });

/** An imported entry that looks wrong in LiteLLM's data; imported as written, for a person to check. */
export interface LiteLlmWarning {
  id: string;
  reason: string;
}

export interface LiteLlmImport {
  entries: PriceEntry[];
  skipped: LiteLlmSkip[];
  warnings: LiteLlmWarning[];
}

const DEFAULT_SOURCE = 'https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json';
const TEXT_MODES = new Set(['chat', 'completion', 'responses', 'embedding']);
/** Cost fields this importer maps onto a PriceEntry's base rates. */
const MAPPED = new Set([
  'input_cost_per_token',
  'output_cost_per_token',
  'cache_read_input_token_cost',
  'cache_creation_input_token_cost',
  'output_cost_per_reasoning_token',
  // DeepSeek's name for the cached-input rate ("cache hit"); must agree with cache_read_input_token_cost.
  'input_cost_per_token_cache_hit',
]);
/** Long-context tiers, e.g. `input_cost_per_token_above_128k_tokens`: the whole request above N thousand prompt tokens. */
const TIER_FIELD =
  /^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost)_above_(\d+)k_tokens$/;
/**
 * Cost fields for other service tiers or optional features: they do not change what a standard
 * call's tokens cost, so they are left out rather than blocking the entry. That covers batch, flex
 * and priority prices and every 1-hour cache write (`…_above_1hr`, `…_above_1hr_above_200k_tokens`).
 * Web-search fees are priced per context size in LiteLLM, which our single per-call fee cannot express.
 */
const IGNORED = /_(batches|flex|priority)$|_above_1hr(_|$)|^search_context_cost_per_query$/;

type Raw = Record<string, unknown>;

function perMillion(raw: Raw, key: string, field: string): string | undefined {
  const value = raw[key];
  if (value === undefined || value === null) return undefined;
  const decimal: Decimal = decimalFromNumber(value, field);
  return formatDecimal(shiftDecimal(decimal, 6));
}

/** LiteLLM splits Vertex AI by model family ("vertex_ai-anthropic_models"); it bills as one host. */
function litellmProvider(name: string): string {
  const normalized = normalizeProvider(name);
  return normalized.startsWith('vertex_ai') ? 'vertex_ai' : normalized;
}

function isCostField(key: string): boolean {
  return key.includes('cost');
}

/** Thresholds (in tokens, ascending) of the long-context tiers the entry lists. */
function tierThresholds(raw: Raw): number[] {
  const thousands = new Set<number>();
  for (const name of Object.keys(raw)) {
    const match = TIER_FIELD.exec(name);
    if (match && raw[name] !== null) thousands.add(Number(match[2]));
  }
  return [...thousands].sort((a, b) => a - b).map((k) => k * 1_000);
}

function tokenPrices(raw: Raw, key: string, suffix: string): TokenPrices | Refusal {
  const field = (name: string) => `${key}.${name}${suffix}`;
  const input = perMillion(raw, `input_cost_per_token${suffix}`, field('input_cost_per_token'));
  const output = perMillion(raw, `output_cost_per_token${suffix}`, field('output_cost_per_token'));
  if (input === undefined) return refuse('missing_price', `input_cost_per_token${suffix} is missing`);
  // Embeddings have no output tokens; a chat model without an output price is incomplete.
  const mode = raw.mode;
  if (output === undefined && mode !== 'embedding')
    return refuse('missing_price', `output_cost_per_token${suffix} is missing`);
  const prices: TokenPrices = { input, output: output ?? '0' };
  const cachedInput = perMillion(
    raw,
    `cache_read_input_token_cost${suffix}`,
    field('cache_read_input_token_cost'),
  );
  const cacheWrite = perMillion(
    raw,
    `cache_creation_input_token_cost${suffix}`,
    field('cache_creation_input_token_cost'),
  );
  const reasoning =
    suffix === ''
      ? perMillion(raw, 'output_cost_per_reasoning_token', field('output_cost_per_reasoning_token'))
      : undefined;
  const cacheHit =
    suffix === ''
      ? perMillion(raw, 'input_cost_per_token_cache_hit', field('input_cost_per_token_cache_hit'))
      : undefined;
  if (cachedInput !== undefined && cacheHit !== undefined && cachedInput !== cacheHit) {
    return refuse(
      'invalid_price',
      `cache_read_input_token_cost ($${cachedInput}/M) and input_cost_per_token_cache_hit ($${cacheHit}/M) disagree`,
    );
  }
  // An optional rate of 0 is as often "not filled in" as "free" (DeepSeek's cache_creation 0.0): left
  // out, the bucket is billed at the input or output rate, towards the higher price (docs/pricing.md).
  const set = (bucket: 'cached_input' | 'cache_write' | 'reasoning', rate: string | undefined) => {
    if (rate !== undefined && rate !== '0') prices[bucket] = rate;
  };
  set('cached_input', cachedInput ?? cacheHit);
  set('cache_write', cacheWrite);
  set('reasoning', reasoning);
  return prices;
}

const isZero = (prices: TokenPrices): boolean => Object.values(prices).every((rate) => rate === '0');

interface Imported {
  entry: PriceEntry;
  /** The key was `<provider>/<model>`, which wins over a bare `<model>` key for the same name. */
  qualified: boolean;
}

function importOne(key: string, raw: Raw, options: LiteLlmImportOptions): Imported | Refusal {
  if (typeof raw.litellm_provider !== 'string') return refuse('not_an_entry', 'litellm_provider is missing');
  const provider = litellmProvider(raw.litellm_provider);
  if (typeof raw.mode !== 'string' || !TEXT_MODES.has(raw.mode))
    return refuse('not_token_priced', `mode ${JSON.stringify(raw.mode)} is not token-priced`);
  const unsupported = Object.keys(raw).filter(
    (name) =>
      isCostField(name) &&
      !MAPPED.has(name) &&
      !TIER_FIELD.test(name) &&
      !IGNORED.test(name) &&
      raw[name] !== 0 &&
      raw[name] !== null,
  );
  if (unsupported.length > 0)
    return refuse('unsupported_cost_field', `unsupported cost fields: ${unsupported.join(', ')}`);
  let base: TokenPrices | Refusal;
  const tiers: PriceEntry['tiers'] = [];
  try {
    base = tokenPrices(raw, key, '');
    if ('kind' in base) return base;
    for (const above of tierThresholds(raw)) {
      const prices = tokenPrices(raw, key, `_above_${above / 1_000}k_tokens`);
      if ('kind' in prices) return prices;
      tiers.push({ above_input_tokens: above, tokens_per_million: prices });
    }
  } catch (error) {
    return refuse('invalid_price', (error as Error).message);
  }
  // LiteLLM keys are often "<provider>/<model>"; the model name events carry is the part after it.
  const slash = key.indexOf('/');
  const qualified = slash > 0 && litellmProvider(key.slice(0, slash)) === provider;
  const model = qualified ? key.slice(slash + 1) : key;
  const free = options.free?.includes(key) === true || model.endsWith(':free');
  if (!free && isZero(base) && tiers.every((tier) => isZero(tier.tokens_per_million))) {
    return refuse(
      'zero_price',
      'every price is 0, which LiteLLM also writes for prices nobody filled in; left unpriced (list the key as free to import it at $0)',
    );
  }
  const id = `${provider}/${model}@${options.validFrom.slice(0, 10)}`;
  if (!ENTRY_ID_TEXT.test(id))
    return refuse(
      'invalid_name',
      `model name ${JSON.stringify(model)} has characters a price entry id cannot hold`,
    );
  const entry: PriceEntry = {
    id,
    provider,
    model,
    aliases: [],
    pattern: null,
    valid_from: options.validFrom,
    valid_to: null,
    tokens_per_million: base,
    tiers,
    fees: {},
    source_url: options.sourceUrl ?? DEFAULT_SOURCE,
    as_of: options.asOf,
    notes:
      free && isZero(base)
        ? "Imported from LiteLLM; free by the operator's declaration."
        : 'Imported from LiteLLM.',
  };
  return { entry, qualified };
}

/**
 * Converts a parsed LiteLLM price file into catalog entries plus a report of what was left out.
 * When two keys name the same provider and model, a provider-qualified key (`deepseek/deepseek-chat`)
 * wins over a bare one (`deepseek-chat`) wherever each stands in the file; between equals the first wins.
 */
export function importLiteLlmPrices(
  file: Record<string, unknown>,
  options: LiteLlmImportOptions,
): LiteLlmImport {
  const winners = new Map<string, Imported & { key: string }>();
  const skipped: LiteLlmSkip[] = [];
  for (const [key, value] of Object.entries(file)) {
    if (key === 'sample_spec') continue;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      skipped.push({ key, kind: 'not_an_entry', reason: 'entry is not an object' });
      continue;
    }
    const rawProvider = (value as Raw).litellm_provider;
    const provider = typeof rawProvider === 'string' ? litellmProvider(rawProvider) : '';
    if (options.providers && !options.providers.includes(provider)) continue;
    const result = importOne(key, value as Raw, options);
    if (!('entry' in result)) {
      skipped.push({ key, ...result });
      continue;
    }
    const { entry } = result;
    const name = `${entry.provider}\u0000${normalizeModel(entry.model)}`;
    const earlier = winners.get(name);
    const duplicate = (loser: string, winner: string) =>
      skipped.push({
        key: loser,
        kind: 'duplicate',
        reason: `duplicate of ${JSON.stringify(winner)} for ${entry.provider} ${entry.model}`,
      });
    if (!earlier) winners.set(name, { ...result, key });
    else if (result.qualified && !earlier.qualified) {
      duplicate(earlier.key, key);
      winners.set(name, { ...result, key });
    } else duplicate(key, earlier.key);
  }
  const entries = [...winners.values()].map((winner) => winner.entry);
  return { entries, skipped, warnings: tierlessSiblings(entries) };
}

/**
 * Entries without a long-context tier whose snapshot (`<model>-…`, same provider and base rates)
 * has one — LiteLLM's `xai/grok-4` lacks the 128k tier that `xai/grok-4-0709` carries. Imported as
 * written (we do not invent prices), and reported so that a person checks the provider's page.
 */
function tierlessSiblings(entries: readonly PriceEntry[]): LiteLlmWarning[] {
  const tiered = new Map<string, PriceEntry[]>();
  for (const entry of entries) {
    if (entry.tiers.length === 0) continue;
    tiered.set(entry.provider, [...(tiered.get(entry.provider) ?? []), entry]);
  }
  const warnings: LiteLlmWarning[] = [];
  for (const entry of entries) {
    if (entry.tiers.length > 0) continue;
    const prefix = `${normalizeModel(entry.model)}-`;
    const sibling = tiered
      .get(entry.provider)
      ?.find(
        (other) =>
          normalizeModel(other.model).startsWith(prefix) &&
          other.tokens_per_million.input === entry.tokens_per_million.input &&
          other.tokens_per_million.output === entry.tokens_per_million.output,
      );
    if (sibling) {
      warnings.push({
        id: entry.id,
        reason: `has no long-context tier, but ${sibling.id} with the same base rates is billed higher above ${sibling.tiers[0]!.above_input_tokens} prompt tokens; check the provider's page`,
      });
    }
  }
  return warnings;
}
