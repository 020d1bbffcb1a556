import { type AdapterOptions, field, modelOf, type ProviderUsage, UsageBuilder } from './common.js';

/** The parts of a Gemini generateContent response this adapter reads. */
export interface GeminiResponseLike {
  modelVersion?: string;
  usageMetadata?: {
    promptTokenCount?: number;
    cachedContentTokenCount?: number;
    candidatesTokenCount?: number;
    toolUsePromptTokenCount?: number;
    thoughtsTokenCount?: number;
    promptTokensDetails?: Array<{ modality?: string; tokenCount?: number }>;
  } | null;
}

/**
 * Gemini `usageMetadata`. https://ai.google.dev/api/generate-content#UsageMetadata
 * `promptTokenCount` INCLUDES `cachedContentTokenCount` ("when cachedContent is set, this is still
 * the total effective prompt size"), while `toolUsePromptTokenCount` (tool results fed back to the
 * model) and `thoughtsTokenCount` are counted ON TOP: totalTokenCount = prompt + candidates +
 * toolUsePrompt + thoughts (https://ai.google.dev/gemini-api/docs/thinking#pricing). So input =
 * prompt − cached + toolUsePrompt, output = candidates, reasoning = thoughts. The model is the
 * response's `modelVersion`. Audio prompt tokens are copied to the `audio_input_tokens` tag.
 */
export function fromGemini(response: GeminiResponseLike, options: AdapterOptions = {}): ProviderUsage {
  const usage = field(response, 'usageMetadata');
  const b = new UsageBuilder();
  const prompt = b.count(field(usage, 'promptTokenCount'), 'input');
  const cached = b.count(field(usage, 'cachedContentTokenCount'), 'cached_input');
  const toolUse = b.count(field(usage, 'toolUsePromptTokenCount'), 'input');
  const details = field(usage, 'promptTokensDetails');
  if (Array.isArray(details)) {
    for (const d of details) {
      if (field(d, 'modality') === 'AUDIO')
        b.tagCount('audio_input_tokens', b.count(field(d, 'tokenCount'), 'input'));
    }
  }
  return b.build(options.provider ?? 'google', modelOf(response, options, 'modelVersion'), {
    input: b.remainder(prompt, cached, 'input') + toolUse,
    cached_input: cached,
    cache_write: 0,
    output: b.count(field(usage, 'candidatesTokenCount'), 'output'),
    reasoning: b.count(field(usage, 'thoughtsTokenCount'), 'reasoning'),
  });
}
