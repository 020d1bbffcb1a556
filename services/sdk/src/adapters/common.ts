import { type BillableUnits, type TokenUsage, ValidationError } from '@burnrate/core';

/**
 * What a provider adapter returns: the provider-dependent part of an emit() input, with tokens in
 * burnrate's exclusive buckets. Spread it into emit(): `emitter.emit({ customer_ref, ...fromX(r) })`.
 */
export interface ProviderUsage {
  provider: string;
  model: string;
  tokens: TokenUsage;
  units?: Partial<BillableUnits>;
  /**
   * Facts that have no bucket of their own (audio tokens, 1-hour cache writes) and the
   * `usage_clamped` flag described in {@link CLAMPED_TAG}.
   */
  tags?: Record<string, string>;
}

/**
 * Tag set when the provider's numbers were inconsistent (a part larger than the total that
 * includes it, a negative or non-numeric count). The rule: a bucket computed as
 * `total − parts` that would be negative becomes 0; a count that is negative, fractional,
 * non-finite or not a number becomes 0. The tag's value lists the affected buckets
 * (e.g. `input,output`), so such events can be found and never carry negative tokens.
 */
export const CLAMPED_TAG = 'usage_clamped';

/** Collects bucket values and remembers which had to be clamped. One per adapter call. */
export class UsageBuilder {
  private readonly clamped = new Set<string>();
  private readonly tags: Record<string, string> = {};

  /**
   * A count reported by the provider: absent (undefined/null) is 0. Numeric strings are accepted
   * because OTLP/JSON carries 64-bit ints as strings.
   */
  count(value: unknown, bucket: string): number {
    if (value === undefined || value === null) return 0;
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n === 'bigint') return this.count(Number(n), bucket);
    if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return n;
    this.clamped.add(bucket);
    return 0;
  }

  /** `total − parts`, or 0 (flagged) when the parts exceed the total that should include them. */
  remainder(total: number, parts: number, bucket: string): number {
    const rest = total - parts;
    if (rest >= 0) return rest;
    this.clamped.add(bucket);
    return 0;
  }

  /** Records a count as a tag when it is non-zero (tags are strings). */
  tagCount(key: string, value: number): void {
    if (value > 0) this.tags[key] = String(value);
  }

  build(provider: string, model: string, tokens: TokenUsage, units?: Partial<BillableUnits>): ProviderUsage {
    if (this.clamped.size > 0) this.tags[CLAMPED_TAG] = [...this.clamped].sort().join(',');
    const usage: ProviderUsage = { provider, model, tokens };
    if (units && Object.keys(units).length > 0) usage.units = units;
    if (Object.keys(this.tags).length > 0) usage.tags = this.tags;
    return usage;
  }
}

/** Reads `obj[key]` when obj is an object, else undefined: provider payloads are untrusted JSON. */
export function field(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}

export function stringField(obj: unknown, key: string): string | undefined {
  const value = field(obj, key);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

const PROVIDER_ALIASES: Record<string, string> = {
  // OpenTelemetry gen_ai.provider.name / gen_ai.system well-known values for Google's APIs.
  'gcp.gemini': 'google',
  'gcp.vertex_ai': 'google',
  'gcp.gen_ai': 'google',
  gemini: 'google',
  vertex_ai: 'google',
  // Vercel AI SDK provider ids are `<vendor>.<api>`; these are its vendor parts that differ.
  'google-vertex': 'google',
  'amazon-bedrock': 'aws.bedrock',
};

/**
 * One provider name per vendor across adapters, so the same Gemini call priced via OpenTelemetry
 * or via the Gemini adapter lands on the same price list. Unknown names pass through lowercased.
 */
export function normalizeProvider(name: string): string {
  const lower = name.trim().toLowerCase();
  return PROVIDER_ALIASES[lower] ?? lower;
}

export interface AdapterOptions {
  /** Used when the response carries no model name (e.g. a trimmed stream chunk). */
  model?: string;
  /** Overrides the provider name, e.g. 'azure.openai' for an Azure OpenAI deployment. */
  provider?: string;
}

/** The response's model name (or options.model); a usage event without a model cannot be priced. */
export function modelOf(response: unknown, options: AdapterOptions, key = 'model'): string {
  const model = stringField(response, key) ?? options.model;
  if (model === undefined || model === '') {
    throw new ValidationError(
      'model',
      `The provider response has no "${key}" field and no model option was given, so its usage cannot be priced: pass { model } to the adapter.`,
    );
  }
  return model;
}
