import { type AdapterOptions, field, modelOf, type ProviderUsage, UsageBuilder } from './common.js';

/** The parts of an OpenAI Chat Completions response (or final stream chunk) this adapter reads. */
export interface OpenAIChatResponseLike {
  model?: string;
  usage?: {
    prompt_tokens?: number;
    completion_tokens?: number;
    prompt_tokens_details?: { cached_tokens?: number; audio_tokens?: number } | null;
    completion_tokens_details?: { reasoning_tokens?: number; audio_tokens?: number } | null;
  } | null;
}

/** The parts of an OpenAI Responses API response this adapter reads. */
export interface OpenAIResponsesResponseLike {
  model?: string;
  usage?: {
    input_tokens?: number;
    output_tokens?: number;
    input_tokens_details?: { cached_tokens?: number } | null;
    output_tokens_details?: { reasoning_tokens?: number } | null;
  } | null;
}

/**
 * OpenAI Chat Completions `usage`.
 * https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
 * `prompt_tokens` INCLUDES `prompt_tokens_details.cached_tokens`, and `completion_tokens` INCLUDES
 * `completion_tokens_details.reasoning_tokens` (https://platform.openai.com/docs/guides/prompt-caching,
 * https://platform.openai.com/docs/guides/reasoning), so both are subtracted here. Audio tokens are
 * also inside prompt/completion tokens; they stay in input/output and are copied to the
 * `audio_input_tokens` / `audio_output_tokens` tags because they are priced differently.
 * OpenAI does not bill cache writes, so cache_write is always 0.
 */
export function fromOpenAIChat(
  response: OpenAIChatResponseLike,
  options: AdapterOptions = {},
): ProviderUsage {
  const usage = field(response, 'usage');
  const b = new UsageBuilder();
  const prompt = b.count(field(usage, 'prompt_tokens'), 'input');
  const completion = b.count(field(usage, 'completion_tokens'), 'output');
  const promptDetails = field(usage, 'prompt_tokens_details');
  const completionDetails = field(usage, 'completion_tokens_details');
  const cached = b.count(field(promptDetails, 'cached_tokens'), 'cached_input');
  const reasoning = b.count(field(completionDetails, 'reasoning_tokens'), 'reasoning');
  b.tagCount('audio_input_tokens', b.count(field(promptDetails, 'audio_tokens'), 'input'));
  b.tagCount('audio_output_tokens', b.count(field(completionDetails, 'audio_tokens'), 'output'));
  return b.build(options.provider ?? 'openai', modelOf(response, options), {
    input: b.remainder(prompt, cached, 'input'),
    cached_input: cached,
    cache_write: 0,
    output: b.remainder(completion, reasoning, 'output'),
    reasoning,
  });
}

/**
 * OpenAI Responses API `usage`.
 * https://platform.openai.com/docs/api-reference/responses/object#responses/object-usage
 * `input_tokens` INCLUDES `input_tokens_details.cached_tokens`; `output_tokens` INCLUDES
 * `output_tokens_details.reasoning_tokens`.
 */
export function fromOpenAIResponses(
  response: OpenAIResponsesResponseLike,
  options: AdapterOptions = {},
): ProviderUsage {
  const usage = field(response, 'usage');
  const b = new UsageBuilder();
  const input = b.count(field(usage, 'input_tokens'), 'input');
  const output = b.count(field(usage, 'output_tokens'), 'output');
  const cached = b.count(field(field(usage, 'input_tokens_details'), 'cached_tokens'), 'cached_input');
  const reasoning = b.count(field(field(usage, 'output_tokens_details'), 'reasoning_tokens'), 'reasoning');
  return b.build(options.provider ?? 'openai', modelOf(response, options), {
    input: b.remainder(input, cached, 'input'),
    cached_input: cached,
    cache_write: 0,
    output: b.remainder(output, reasoning, 'output'),
    reasoning,
  });
}
