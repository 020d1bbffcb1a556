import { ValidationError } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import {
  CLAMPED_TAG,
  fromAnthropic,
  fromGemini,
  fromOpenAIChat,
  fromOpenAIResponses,
  fromOtelGenAI,
  fromVercelAI,
  type ProviderUsage,
} from '../src/index.js';

const total = (u: ProviderUsage) => Object.values(u.tokens).reduce((a, b) => a + b, 0);

describe('OpenAI Chat Completions', () => {
  it('takes cached tokens out of prompt_tokens and reasoning out of completion_tokens (the double-count trap)', () => {
    const u = fromOpenAIChat({
      model: 'o4-mini-2025-04-16',
      usage: {
        prompt_tokens: 1000,
        completion_tokens: 300,
        prompt_tokens_details: { cached_tokens: 800, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 256, audio_tokens: 0 },
      },
    });
    expect(u).toEqual({
      provider: 'openai',
      model: 'o4-mini-2025-04-16',
      tokens: { input: 200, cached_input: 800, cache_write: 0, output: 44, reasoning: 256 },
    });
    expect(total(u)).toBe(1300); // prompt_tokens + completion_tokens, each token once
  });

  it('keeps audio tokens inside input/output and reports them as tags', () => {
    const u = fromOpenAIChat({
      model: 'gpt-4o-audio-preview',
      usage: {
        prompt_tokens: 500,
        completion_tokens: 120,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 400 },
        completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 100 },
      },
    });
    expect(u.tokens).toMatchObject({ input: 500, output: 120 });
    expect(u.tags).toEqual({ audio_input_tokens: '400', audio_output_tokens: '100' });
  });

  it('treats absent details (older models, stream chunks) as zero', () => {
    const u = fromOpenAIChat({ model: 'gpt-3.5-turbo', usage: { prompt_tokens: 9, completion_tokens: 12 } });
    expect(u.tokens).toEqual({ input: 9, cached_input: 0, cache_write: 0, output: 12, reasoning: 0 });
    expect(u.tags).toBeUndefined();
  });

  it('clamps inconsistent numbers to zero and flags them instead of producing negatives', () => {
    const u = fromOpenAIChat({
      model: 'gpt-4o',
      usage: {
        prompt_tokens: 100,
        completion_tokens: 5,
        prompt_tokens_details: { cached_tokens: 150 },
        completion_tokens_details: { reasoning_tokens: 9 },
      },
    });
    expect(u.tokens).toEqual({ input: 0, cached_input: 150, cache_write: 0, output: 0, reasoning: 9 });
    expect(u.tags).toEqual({ [CLAMPED_TAG]: 'input,output' });
  });

  it('flags garbage counts (negative, fractional, non-numeric) and uses 0', () => {
    const u = fromOpenAIChat({
      model: 'gpt-4o',
      usage: { prompt_tokens: -3, completion_tokens: 'x' as never },
    });
    expect(u.tokens.input).toBe(0);
    expect(u.tokens.output).toBe(0);
    expect(u.tags?.[CLAMPED_TAG]).toBe('input,output');
  });

  it('needs a model to price the usage', () => {
    expect(() => fromOpenAIChat({ usage: { prompt_tokens: 1 } })).toThrow(ValidationError);
    expect(fromOpenAIChat({ usage: { prompt_tokens: 1 } }, { model: 'gpt-4o' }).model).toBe('gpt-4o');
    expect(fromOpenAIChat({ model: 'gpt-4o' }, { provider: 'azure.openai' }).provider).toBe('azure.openai');
  });
});

describe('OpenAI Responses API', () => {
  it('takes cached out of input_tokens and reasoning out of output_tokens', () => {
    const u = fromOpenAIResponses({
      model: 'gpt-5-2025-08-07',
      usage: {
        input_tokens: 1000,
        input_tokens_details: { cached_tokens: 800 },
        output_tokens: 900,
        output_tokens_details: { reasoning_tokens: 640 },
      },
    });
    expect(u.tokens).toEqual({ input: 200, cached_input: 800, cache_write: 0, output: 260, reasoning: 640 });
  });
});

describe('Anthropic Messages', () => {
  it('maps the already-exclusive counters straight through (adding them up again is the trap)', () => {
    const u = fromAnthropic({
      model: 'claude-sonnet-4-5-20250929',
      usage: {
        input_tokens: 50,
        cache_creation_input_tokens: 1200,
        cache_read_input_tokens: 9000,
        output_tokens: 400,
        cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 200 },
        server_tool_use: { web_search_requests: 2 },
      },
    });
    expect(u).toEqual({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5-20250929',
      tokens: { input: 50, cached_input: 9000, cache_write: 1200, output: 400, reasoning: 0 },
      units: { web_search_calls: 2 },
      tags: { cache_write_1h_tokens: '200' },
    });
  });

  it('handles null cache fields (no caching used)', () => {
    const u = fromAnthropic({
      model: 'claude-3-5-haiku-20241022',
      usage: {
        input_tokens: 10,
        output_tokens: 3,
        cache_creation_input_tokens: null,
        cache_read_input_tokens: null,
      },
    });
    expect(u.tokens).toEqual({ input: 10, cached_input: 0, cache_write: 0, output: 3, reasoning: 0 });
    expect(u.units).toBeUndefined();
  });
});

describe('Gemini usageMetadata', () => {
  it('takes cached content out of the prompt, adds tool-use prompt tokens, keeps thoughts apart', () => {
    const u = fromGemini({
      modelVersion: 'gemini-2.5-flash',
      usageMetadata: {
        promptTokenCount: 1000,
        cachedContentTokenCount: 800,
        candidatesTokenCount: 120,
        toolUsePromptTokenCount: 30,
        thoughtsTokenCount: 500,
        promptTokensDetails: [
          { modality: 'TEXT', tokenCount: 900 },
          { modality: 'AUDIO', tokenCount: 100 },
        ],
      },
    });
    expect(u).toEqual({
      provider: 'google',
      model: 'gemini-2.5-flash',
      tokens: { input: 230, cached_input: 800, cache_write: 0, output: 120, reasoning: 500 },
      tags: { audio_input_tokens: '100' },
    });
    expect(total(u)).toBe(1000 + 120 + 30 + 500); // = totalTokenCount
  });
});

describe('Vercel AI SDK', () => {
  it('v6: uses inputTokenDetails / outputTokenDetails', () => {
    const u = fromVercelAI(
      {
        usage: {
          inputTokens: 10_250,
          inputTokenDetails: { noCacheTokens: 50, cacheReadTokens: 9_000, cacheWriteTokens: 1_200 },
          outputTokens: 400,
          outputTokenDetails: { textTokens: 300, reasoningTokens: 100 },
          totalTokens: 10_650,
        },
        response: { modelId: 'claude-sonnet-4-5' },
      },
      { provider: 'anthropic.messages' },
    );
    expect(u).toEqual({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      tokens: { input: 50, cached_input: 9_000, cache_write: 1_200, output: 300, reasoning: 100 },
    });
  });

  it('v5 with OpenAI: inputTokens includes cached, outputTokens includes reasoning', () => {
    const u = fromVercelAI(
      {
        usage: {
          inputTokens: 1000,
          outputTokens: 300,
          totalTokens: 1300,
          cachedInputTokens: 800,
          reasoningTokens: 256,
        },
      },
      { provider: 'openai.responses', model: 'o3' },
    );
    expect(u.tokens).toEqual({ input: 200, cached_input: 800, cache_write: 0, output: 44, reasoning: 256 });
  });

  it('v5 with Anthropic: inputTokens already excludes the cache; writes come from providerMetadata', () => {
    const u = fromVercelAI(
      {
        usage: { inputTokens: 50, outputTokens: 400, totalTokens: 450, cachedInputTokens: 9000 },
        providerMetadata: { anthropic: { cacheCreationInputTokens: 1200 } },
        response: { modelId: 'claude-sonnet-4-5' },
      },
      { provider: 'anthropic.messages' },
    );
    expect(u.tokens).toEqual({ input: 50, cached_input: 9000, cache_write: 1200, output: 400, reasoning: 0 });
  });

  it('v5 with Google: outputTokens (candidates) excludes the thoughts', () => {
    const u = fromVercelAI(
      {
        usage: {
          inputTokens: 1000,
          outputTokens: 120,
          totalTokens: 1620,
          cachedInputTokens: 800,
          reasoningTokens: 500,
        },
      },
      { provider: 'google.generative-ai', model: 'gemini-2.5-pro' },
    );
    expect(u.tokens).toEqual({ input: 200, cached_input: 800, cache_write: 0, output: 120, reasoning: 500 });
  });

  it('v4: promptTokens/completionTokens with cache counts in providerMetadata', () => {
    const openai = fromVercelAI(
      {
        usage: { promptTokens: 1000, completionTokens: 300, totalTokens: 1300 } as never,
        providerMetadata: { openai: { cachedPromptTokens: 800, reasoningTokens: 256 } },
      },
      { provider: 'openai.chat', model: 'o3-mini' },
    );
    expect(openai.tokens).toEqual({
      input: 200,
      cached_input: 800,
      cache_write: 0,
      output: 44,
      reasoning: 256,
    });
    const anthropic = fromVercelAI(
      {
        usage: { promptTokens: 50, completionTokens: 400, totalTokens: 450 } as never,
        providerMetadata: { anthropic: { cacheCreationInputTokens: 1200, cacheReadInputTokens: 9000 } },
      },
      { provider: 'anthropic.messages', model: 'claude-3-7-sonnet' },
    );
    expect(anthropic.tokens).toEqual({
      input: 50,
      cached_input: 9000,
      cache_write: 1200,
      output: 400,
      reasoning: 0,
    });
  });
});

describe('OpenTelemetry GenAI span attributes', () => {
  const attributes = {
    'gen_ai.provider.name': 'anthropic',
    'gen_ai.request.model': 'claude-sonnet-4-5',
    'gen_ai.response.model': 'claude-sonnet-4-5-20250929',
    'gen_ai.usage.input_tokens': 10_250,
    'gen_ai.usage.cache_read.input_tokens': 9_000,
    'gen_ai.usage.cache_creation.input_tokens': 1_200,
    'gen_ai.usage.output_tokens': 400,
    'gen_ai.usage.reasoning.output_tokens': 100,
  };

  it('takes cache reads and writes out of input_tokens and reasoning out of output_tokens (semconv)', () => {
    const u = fromOtelGenAI(attributes);
    expect(u).toEqual({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5-20250929',
      tokens: { input: 50, cached_input: 9_000, cache_write: 1_200, output: 300, reasoning: 100 },
    });
  });

  it('reads Maps, numeric strings (OTLP/JSON int64) and the older gen_ai.system / prompt_tokens names', () => {
    const u = fromOtelGenAI(
      new Map<string, unknown>([
        ['gen_ai.system', 'gcp.vertex_ai'],
        ['gen_ai.request.model', 'gemini-2.0-flash'],
        ['gen_ai.usage.prompt_tokens', '70'],
        ['gen_ai.usage.completion_tokens', '12'],
      ]),
    );
    expect(u).toEqual({
      provider: 'google',
      model: 'gemini-2.0-flash',
      tokens: { input: 70, cached_input: 0, cache_write: 0, output: 12, reasoning: 0 },
    });
  });

  it('can trust an instrumentation that reports input_tokens exclusive of the cache', () => {
    const u = fromOtelGenAI(
      { ...attributes, 'gen_ai.usage.input_tokens': 50 },
      { inputIncludesCache: false },
    );
    expect(u.tokens.input).toBe(50);
    expect(u.tags).toBeUndefined();
    // Without the option the same numbers are inconsistent with the semconv: clamped and flagged.
    const flagged = fromOtelGenAI({ ...attributes, 'gen_ai.usage.input_tokens': 50 });
    expect(flagged.tokens.input).toBe(0);
    expect(flagged.tags).toEqual({ [CLAMPED_TAG]: 'input' });
  });

  it('names the missing attribute', () => {
    expect(() => fromOtelGenAI({ 'gen_ai.request.model': 'm' })).toThrow(
      expect.objectContaining({ field: 'provider' }),
    );
    expect(() => fromOtelGenAI({ 'gen_ai.provider.name': 'openai' })).toThrow(
      expect.objectContaining({ field: 'model' }),
    );
  });
});
