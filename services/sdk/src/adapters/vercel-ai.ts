import { ValidationError } from '@burnrate/core';
import { field, normalizeProvider, type ProviderUsage, stringField, UsageBuilder } from './common.js';

/** A generateText()/streamText() result, or any object with `usage` (e.g. `{ usage: result.totalUsage }`). */
export interface VercelAIResultLike {
  usage?: object | null;
  providerMetadata?: Record<string, Record<string, unknown> | undefined> | null;
  response?: { modelId?: string } | null;
}

export interface VercelAIOptions {
  /**
   * The AI SDK provider id, i.e. `model.provider` ('openai.chat', 'anthropic.messages',
   * 'google.generative-ai'…). Required because AI SDK 4 and 5 pass each provider's own counting
   * through: the same `inputTokens` field includes cache reads for OpenAI and Google but excludes
   * them for Anthropic.
   */
  provider: string;
  /** Defaults to `result.response.modelId`. */
  model?: string;
}

/**
 * Vercel AI SDK usage, all three shapes:
 * - AI SDK 6 (https://ai-sdk.dev/docs/reference/ai-sdk-core/generate-text#usage): `inputTokens` is the
 *   total and `inputTokenDetails.{noCacheTokens, cacheReadTokens, cacheWriteTokens}` split it;
 *   `outputTokens` is the total and `outputTokenDetails.{textTokens, reasoningTokens}` split it.
 * - AI SDK 5 (LanguageModelV2Usage: inputTokens, outputTokens, totalTokens, reasoningTokens?,
 *   cachedInputTokens?): provider-dependent. @ai-sdk/openai maps prompt_tokens → inputTokens
 *   (includes cached) and completion_tokens → outputTokens (includes reasoning); @ai-sdk/anthropic
 *   maps input_tokens → inputTokens (EXCLUDES cache reads and writes; writes are in
 *   providerMetadata.anthropic.cacheCreationInputTokens); @ai-sdk/google maps promptTokenCount →
 *   inputTokens (includes cached) and candidatesTokenCount → outputTokens (EXCLUDES thoughts).
 * - AI SDK 4 (promptTokens, completionTokens): cache and reasoning counts are only in
 *   providerMetadata (openai.cachedPromptTokens / reasoningTokens, anthropic.cacheReadInputTokens /
 *   cacheCreationInputTokens).
 */
export function fromVercelAI(result: VercelAIResultLike, options: VercelAIOptions): ProviderUsage {
  const vendor = normalizeProvider(options.provider.split('.')[0] ?? options.provider);
  const model = options.model ?? stringField(field(result, 'response'), 'modelId');
  if (model === undefined) {
    throw new ValidationError(
      'model',
      'The AI SDK result has no response.modelId and no model option was given, so its usage cannot be priced: pass { model }.',
    );
  }
  const usage = field(result, 'usage');
  const meta = field(result, 'providerMetadata');
  const b = new UsageBuilder();
  const inputDetails = field(usage, 'inputTokenDetails');
  const outputDetails = field(usage, 'outputTokenDetails');

  if (typeof inputDetails === 'object' && inputDetails !== null) {
    // AI SDK 6: totals plus explicit splits; the splits win where present.
    const input = b.count(field(usage, 'inputTokens'), 'input');
    const read = b.count(field(inputDetails, 'cacheReadTokens'), 'cached_input');
    const write = b.count(field(inputDetails, 'cacheWriteTokens'), 'cache_write');
    const noCache = field(inputDetails, 'noCacheTokens');
    const output = b.count(field(usage, 'outputTokens'), 'output');
    const reasoning = b.count(field(outputDetails, 'reasoningTokens'), 'reasoning');
    const text = field(outputDetails, 'textTokens');
    return b.build(vendor, model, {
      input: noCache != null ? b.count(noCache, 'input') : b.remainder(input, read + write, 'input'),
      cached_input: read,
      cache_write: write,
      output: text != null ? b.count(text, 'output') : b.remainder(output, reasoning, 'output'),
      reasoning,
    });
  }

  const v5 = field(usage, 'inputTokens') !== undefined || field(usage, 'outputTokens') !== undefined;
  const input = b.count(field(usage, v5 ? 'inputTokens' : 'promptTokens'), 'input');
  const output = b.count(field(usage, v5 ? 'outputTokens' : 'completionTokens'), 'output');
  const vendorMeta = field(meta, vendor);
  if (vendor === 'anthropic') {
    // input_tokens passed through as is: already exclusive of both cache buckets.
    const read = v5 ? field(usage, 'cachedInputTokens') : field(vendorMeta, 'cacheReadInputTokens');
    return b.build(vendor, model, {
      input,
      cached_input: b.count(read, 'cached_input'),
      cache_write: b.count(field(vendorMeta, 'cacheCreationInputTokens'), 'cache_write'),
      output,
      reasoning: 0,
    });
  }
  const cached = b.count(
    v5 ? field(usage, 'cachedInputTokens') : field(vendorMeta, 'cachedPromptTokens'),
    'cached_input',
  );
  const reasoning = b.count(
    v5 ? field(usage, 'reasoningTokens') : field(vendorMeta, 'reasoningTokens'),
    'reasoning',
  );
  // Google's candidatesTokenCount never contained the thoughts; everyone else's output total does.
  const outputExcludesReasoning = vendor === 'google';
  return b.build(vendor, model, {
    input: b.remainder(input, cached, 'input'),
    cached_input: cached,
    cache_write: 0,
    output: outputExcludesReasoning ? output : b.remainder(output, reasoning, 'output'),
    reasoning,
  });
}
