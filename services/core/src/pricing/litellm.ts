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
}

export interface LiteLlmSkip {
  key: string;
  reason: string;
}

export interface LiteLlmImport {
  entries: PriceEntry[];
  skipped: LiteLlmSkip[];
}

const DEFAULT_SOURCE = 'https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json';
const TEXT_MODES = new Set(['chat', 'completion', 'responses', 'embedding']);
/** Cost fields this importer maps onto a PriceEntry. */
const MAPPED = new Set([
  'input_cost_per_token',
  'output_cost_per_token',
  'cache_read_input_token_cost',
  'cache_creation_input_token_cost',
  'output_cost_per_reasoning_token',
  'input_cost_per_token_above_200k_tokens',
  'output_cost_per_token_above_200k_tokens',
  'cache_read_input_token_cost_above_200k_tokens',
  'cache_creation_input_token_cost_above_200k_tokens',
]);
/**
 * Cost fields for other service tiers or optional features: they do not change what a standard
 * call's tokens cost, so they are left out rather than blocking the entry. Web-search fees are
 * priced per context size in LiteLLM, which our single per-call fee cannot express.
 */
const IGNORED = /_(batches|flex|priority)$|_above_1hr$|^search_context_cost_per_query$/;
const TIER_TOKENS = 200_000;

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

function tokenPrices(raw: Raw, key: string, suffix: string): TokenPrices | string {
  const field = (name: string) => `${key}.${name}${suffix}`;
  const input = perMillion(raw, `input_cost_per_token${suffix}`, field('input_cost_per_token'));
  const output = perMillion(raw, `output_cost_per_token${suffix}`, field('output_cost_per_token'));
  if (input === undefined) return `input_cost_per_token${suffix} is missing`;
  // Embeddings have no output tokens; a chat model without an output price is incomplete.
  const mode = raw.mode;
  if (output === undefined && mode !== 'embedding') return `output_cost_per_token${suffix} is missing`;
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
  if (cachedInput !== undefined) prices.cached_input = cachedInput;
  if (cacheWrite !== undefined) prices.cache_write = cacheWrite;
  if (reasoning !== undefined) prices.reasoning = reasoning;
  return prices;
}

function importOne(key: string, raw: Raw, options: LiteLlmImportOptions): PriceEntry | string {
  if (typeof raw.litellm_provider !== 'string') return 'litellm_provider is missing';
  const provider = litellmProvider(raw.litellm_provider);
  if (typeof raw.mode !== 'string' || !TEXT_MODES.has(raw.mode))
    return `mode ${JSON.stringify(raw.mode)} is not token-priced`;
  const unsupported = Object.keys(raw).filter(
    (name) =>
      isCostField(name) && !MAPPED.has(name) && !IGNORED.test(name) && raw[name] !== 0 && raw[name] !== null,
  );
  if (unsupported.length > 0) return `unsupported cost fields: ${unsupported.join(', ')}`;
  let base: TokenPrices | string;
  let above: TokenPrices | string | undefined;
  try {
    base = tokenPrices(raw, key, '');
    const hasTier =
      raw.input_cost_per_token_above_200k_tokens !== undefined ||
      raw.output_cost_per_token_above_200k_tokens !== undefined;
    above = hasTier ? tokenPrices(raw, key, '_above_200k_tokens') : undefined;
  } catch (error) {
    return (error as Error).message;
  }
  if (typeof base === 'string') return base;
  if (typeof above === 'string') return above;
  // LiteLLM keys are often "<provider>/<model>"; the model name events carry is the part after it.
  const slash = key.indexOf('/');
  const model = slash > 0 && litellmProvider(key.slice(0, slash)) === provider ? key.slice(slash + 1) : key;
  const id = `${provider}/${model}@${options.validFrom.slice(0, 10)}`;
  if (!ENTRY_ID_TEXT.test(id))
    return `model name ${JSON.stringify(model)} has characters a price entry id cannot hold`;
  return {
    id,
    provider,
    model,
    aliases: [],
    pattern: null,
    valid_from: options.validFrom,
    valid_to: null,
    tokens_per_million: base,
    tiers: above ? [{ above_input_tokens: TIER_TOKENS, tokens_per_million: above }] : [],
    fees: {},
    source_url: options.sourceUrl ?? DEFAULT_SOURCE,
    as_of: options.asOf,
    notes: 'Imported from LiteLLM.',
  };
}

/** Converts a parsed LiteLLM price file into catalog entries plus a report of what was left out. */
export function importLiteLlmPrices(
  file: Record<string, unknown>,
  options: LiteLlmImportOptions,
): LiteLlmImport {
  const entries: PriceEntry[] = [];
  const skipped: LiteLlmSkip[] = [];
  const seen = new Set<string>();
  for (const [key, value] of Object.entries(file)) {
    if (key === 'sample_spec') continue;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      skipped.push({ key, reason: 'entry is not an object' });
      continue;
    }
    const rawProvider = (value as Raw).litellm_provider;
    const provider = typeof rawProvider === 'string' ? litellmProvider(rawProvider) : '';
    if (options.providers && !options.providers.includes(provider)) continue;
    const result = importOne(key, value as Raw, options);
    if (typeof result === 'string') {
      skipped.push({ key, reason: result });
      continue;
    }
    const name = `${result.provider}\u0000${normalizeModel(result.model)}`;
    if (seen.has(name)) {
      skipped.push({ key, reason: `duplicate of an earlier entry for ${result.provider} ${result.model}` });
      continue;
    }
    seen.add(name);
    entries.push(result);
  }
  return { entries, skipped };
}
