import { ValidationError } from '@burnrate/core';
import { type AdapterOptions, normalizeProvider, type ProviderUsage, UsageBuilder } from './common.js';

export interface OtelGenAIOptions extends AdapterOptions {
  /**
   * Whether gen_ai.usage.input_tokens includes the cache reads and cache writes, as the semantic
   * conventions require (default true). Set false for an instrumentation known to copy Anthropic's
   * exclusive input_tokens verbatim.
   */
  inputIncludesCache?: boolean;
}

/** Span attributes as a plain object or a Map (OTel SDK `span.attributes`, or decoded OTLP). */
export type SpanAttributes = Readonly<Record<string, unknown>> | ReadonlyMap<string, unknown>;

/**
 * OpenTelemetry GenAI span attributes.
 * https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/ and
 * https://opentelemetry.io/docs/specs/semconv/registry/attributes/gen-ai/ :
 * gen_ai.usage.input_tokens "SHOULD include all types of input tokens, including cached tokens";
 * gen_ai.usage.cache_read.input_tokens and gen_ai.usage.cache_creation.input_tokens are each
 * "SHOULD be included in gen_ai.usage.input_tokens"; gen_ai.usage.reasoning.output_tokens is part
 * of gen_ai.usage.output_tokens. So input = input_tokens − cache_read − cache_creation and
 * output = output_tokens − reasoning. Older names are read when the current ones are absent
 * (gen_ai.usage.prompt_tokens / completion_tokens, gen_ai.system, *_input_tokens with
 * underscores). The model is gen_ai.response.model (what actually ran), else gen_ai.request.model.
 */
export function fromOtelGenAI(attributes: SpanAttributes, options: OtelGenAIOptions = {}): ProviderUsage {
  const get = (key: string): unknown =>
    attributes instanceof Map ? attributes.get(key) : (attributes as Record<string, unknown>)[key];
  const first = (...keys: string[]): unknown => {
    for (const key of keys) {
      const value = get(key);
      if (value !== undefined && value !== null) return value;
    }
    return undefined;
  };
  const text = (...keys: string[]): string | undefined => {
    const value = first(...keys);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };

  const provider = options.provider ?? text('gen_ai.provider.name', 'gen_ai.system');
  const model = text('gen_ai.response.model', 'gen_ai.request.model') ?? options.model;
  if (provider === undefined) {
    throw new ValidationError(
      'provider',
      'The span has neither gen_ai.provider.name nor gen_ai.system, so its usage cannot be priced: pass { provider }.',
    );
  }
  if (model === undefined) {
    throw new ValidationError(
      'model',
      'The span has neither gen_ai.response.model nor gen_ai.request.model, so its usage cannot be priced: pass { model }.',
    );
  }

  const b = new UsageBuilder();
  const input = b.count(first('gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens'), 'input');
  const output = b.count(first('gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens'), 'output');
  const read = b.count(
    first('gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cache_read_input_tokens'),
    'cached_input',
  );
  const write = b.count(
    first('gen_ai.usage.cache_creation.input_tokens', 'gen_ai.usage.cache_creation_input_tokens'),
    'cache_write',
  );
  const reasoning = b.count(first('gen_ai.usage.reasoning.output_tokens'), 'reasoning');
  return b.build(normalizeProvider(provider), model, {
    input: options.inputIncludesCache === false ? input : b.remainder(input, read + write, 'input'),
    cached_input: read,
    cache_write: write,
    output: b.remainder(output, reasoning, 'output'),
    reasoning,
  });
}
