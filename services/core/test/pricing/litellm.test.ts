import { readFileSync } from 'node:fs';
import { computeCost, importLiteLlmPrices, PriceCatalog } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { makeUsage } from '../fixtures/reference-data.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/litellm-prices.json', import.meta.url), 'utf8'));
const options = { validFrom: '2025-11-01', asOf: '2025-11-01' };
const result = importLiteLlmPrices(fixture, options);
const byId = new Map(result.entries.map((entry) => [entry.id, entry]));

describe('importLiteLlmPrices', () => {
  it('converts per-token floats to exact per-million decimal strings', () => {
    expect(byId.get('openai/gpt-4o@2025-11-01')?.tokens_per_million).toEqual({
      input: '2.5',
      cached_input: '1.25',
      output: '10',
    });
    expect(byId.get('deepseek/deepseek-reasoner@2025-11-01')?.tokens_per_million).toEqual({
      input: '0.55',
      cached_input: '0.14',
      output: '2.19', // 2.19e-6 * 1e6 is 2.1900000000000004 in floating point
    });
    expect(byId.get('google/gemini-2.5-pro@2025-11-01')?.tokens_per_million.cached_input).toBe('0.3125');
    expect(byId.get('vertex_ai/gemini-2.5-flash-lite@2025-11-01')?.tokens_per_million.cached_input).toBe(
      '0.01',
    );
    expect(byId.get('openai/text-embedding-3-small@2025-11-01')?.tokens_per_million).toEqual({
      input: '0.02',
      output: '0',
    });
  });

  it('maps cache writes, reasoning and the above-200k tier', () => {
    const sonnet = byId.get('anthropic/claude-sonnet-4-5@2025-11-01')!;
    expect(sonnet.tokens_per_million).toEqual({
      input: '3',
      cached_input: '0.3',
      cache_write: '3.75',
      output: '15',
    });
    expect(sonnet.tiers).toEqual([
      {
        above_input_tokens: 200_000,
        tokens_per_million: { input: '6', cached_input: '0.6', cache_write: '7.5', output: '22.5' },
      },
    ]);
    const flash = byId.get('google/gemini-2.5-flash-preview-04-17@2025-11-01')!;
    expect(flash.tokens_per_million).toEqual({
      input: '0.15',
      cached_input: '0.0375',
      output: '0.6',
      reasoning: '3.5',
    });
  });

  it('names providers and models the way events carry them', () => {
    expect(byId.has('groq/llama-3.3-70b-versatile@2025-11-01')).toBe(true);
    expect(byId.has('azure_openai/gpt-4o@2025-11-01')).toBe(true);
    expect(byId.has('bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0@2025-11-01')).toBe(true);
  });

  it('ignores fields for other service tiers instead of rejecting the entry', () => {
    expect(byId.get('openai/o3@2025-11-01')?.tokens_per_million).toEqual({
      input: '2',
      cached_input: '0.5',
      output: '8',
    });
  });

  it('reports what it cannot map, with a reason, instead of guessing', () => {
    const reasons = Object.fromEntries(result.skipped.map((skip) => [skip.key, skip.reason]));
    expect(Object.keys(reasons).sort()).toEqual(
      [
        'broken-chat',
        'dall-e-3',
        'gemini-1.5-pro',
        'gemini-2.0-flash-001',
        'negative-price',
        'gpt-4o',
      ].sort(),
    );
    expect(reasons['dall-e-3']).toMatch(/mode "image_generation"/);
    expect(reasons['gemini-1.5-pro']).toMatch(/unsupported cost fields: input_cost_per_character$/);
    expect(reasons['gemini-2.0-flash-001']).toMatch(/input_cost_per_audio_token/);
    expect(reasons['broken-chat']).toMatch(/output_cost_per_token is missing/);
    expect(reasons['negative-price']).toMatch(/non-negative/);
    expect(reasons['gpt-4o']).toBe('duplicate of "openai/gpt-4o" for openai gpt-4o');
    expect(result.skipped.some((skip) => skip.key === 'sample_spec')).toBe(false);
  });

  it('filters by provider', () => {
    const only = importLiteLlmPrices(fixture, { ...options, providers: ['anthropic'] });
    expect(only.entries.map((entry) => entry.id)).toEqual(['anthropic/claude-sonnet-4-5@2025-11-01']);
  });

  it('produces entries a catalog accepts and prices exactly', () => {
    const catalog = new PriceCatalog('litellm.2025-11-01', result.entries);
    const entry = catalog.lookup('deepseek', 'deepseek-reasoner', Date.parse('2025-11-02T00:00:00Z'))!;
    expect(computeCost(makeUsage({ output: 1_000_000 }), entry).output_nanos).toBe(2_190_000_000);
    const sonnet = catalog.lookup('anthropic', 'claude-sonnet-4-5', Date.parse('2025-11-02T00:00:00Z'))!;
    expect(computeCost(makeUsage({ input: 300_000 }), sonnet).input_nanos).toBe(1_800_000_000);
  });
});

/** Entries shaped like those of the real LiteLLM file that the importer used to get wrong. */
const real = {
  'deepseek-chat': {
    input_cost_per_token: 2.7e-7,
    output_cost_per_token: 1.1e-6,
    cache_read_input_token_cost: 7e-8,
    litellm_provider: 'deepseek',
    mode: 'chat',
  },
  'deepseek/deepseek-chat': {
    cache_creation_input_token_cost: 0.0,
    cache_read_input_token_cost: 2.8e-8,
    input_cost_per_token: 2.8e-7,
    input_cost_per_token_cache_hit: 2.8e-8,
    litellm_provider: 'deepseek',
    mode: 'chat',
    output_cost_per_token: 4.2e-7,
  },
  'deepseek/deepseek-coder': {
    input_cost_per_token: 1.4e-7,
    input_cost_per_token_cache_hit: 1.4e-8,
    litellm_provider: 'deepseek',
    mode: 'chat',
    output_cost_per_token: 2.8e-7,
  },
  'deepseek/deepseek-odd': {
    cache_read_input_token_cost: 2.8e-8,
    input_cost_per_token: 2.8e-7,
    input_cost_per_token_cache_hit: 7e-8,
    litellm_provider: 'deepseek',
    mode: 'chat',
    output_cost_per_token: 4.2e-7,
  },
  'gemini/gemini-exp-1206': {
    input_cost_per_token: 0,
    output_cost_per_token: 0,
    litellm_provider: 'gemini',
    mode: 'chat',
  },
  'openrouter/meta-llama/llama-3.3-70b-instruct:free': {
    input_cost_per_token: 0,
    output_cost_per_token: 0,
    litellm_provider: 'openrouter',
    mode: 'chat',
  },
  'ollama/llama3.1': {
    input_cost_per_token: 0,
    output_cost_per_token: 0,
    litellm_provider: 'ollama',
    mode: 'chat',
  },
  'claude-sonnet-4-5-20250929': {
    input_cost_per_token: 3e-6,
    output_cost_per_token: 1.5e-5,
    cache_creation_input_token_cost: 3.75e-6,
    cache_creation_input_token_cost_above_1hr: 6e-6,
    cache_creation_input_token_cost_above_1hr_above_200k_tokens: 1.2e-5,
    cache_read_input_token_cost: 3e-7,
    input_cost_per_token_above_200k_tokens: 6e-6,
    output_cost_per_token_above_200k_tokens: 2.25e-5,
    cache_creation_input_token_cost_above_200k_tokens: 7.5e-6,
    cache_read_input_token_cost_above_200k_tokens: 6e-7,
    input_cost_per_token_batches: 1.5e-6,
    litellm_provider: 'anthropic',
    mode: 'chat',
  },
  'xai/grok-4': {
    input_cost_per_token: 3e-6,
    output_cost_per_token: 1.5e-5,
    litellm_provider: 'xai',
    mode: 'chat',
  },
  'xai/grok-4-0709': {
    input_cost_per_token: 3e-6,
    output_cost_per_token: 1.5e-5,
    cache_read_input_token_cost: 7.5e-7,
    input_cost_per_token_above_128k_tokens: 6e-6,
    output_cost_per_token_above_128k_tokens: 3e-5,
    litellm_provider: 'xai',
    mode: 'chat',
  },
  'xai/grok-half-tier': {
    input_cost_per_token: 3e-6,
    output_cost_per_token: 1.5e-5,
    input_cost_per_token_above_128k_tokens: 6e-6,
    litellm_provider: 'xai',
    mode: 'chat',
  },
  'vertex_ai/mystery': {
    input_cost_per_token: 1e-6,
    output_cost_per_token: 2e-6,
    input_cost_per_token_above_1m_requests: 5e-7,
    litellm_provider: 'vertex_ai-language-models',
    mode: 'chat',
  },
};

describe('importLiteLlmPrices on entries shaped like the real file', () => {
  const imported = importLiteLlmPrices(real, options);
  const ids = new Map(imported.entries.map((entry) => [entry.id, entry]));
  const why = Object.fromEntries(imported.skipped.map((skip) => [skip.key, skip.reason]));

  it('leaves a $0 price unpriced unless the key is declared free or the model is a :free variant', () => {
    expect(ids.has('google/gemini-exp-1206@2025-11-01')).toBe(false);
    expect(why['gemini/gemini-exp-1206']).toMatch(/^every price is 0/);
    expect(why['ollama/llama3.1']).toMatch(/^every price is 0/);
    expect(imported.skipped.find((skip) => skip.key === 'ollama/llama3.1')?.kind).toBe('zero_price');
    expect(
      ids.get('openrouter/meta-llama/llama-3.3-70b-instruct:free@2025-11-01')?.tokens_per_million,
    ).toEqual({ input: '0', output: '0' });
    const declared = importLiteLlmPrices(real, { ...options, free: ['ollama/llama3.1'] });
    const ollama = declared.entries.find((entry) => entry.id === 'ollama/llama3.1@2025-11-01');
    expect(ollama?.tokens_per_million).toEqual({ input: '0', output: '0' });
    expect(declared.entries.some((entry) => entry.provider === 'google')).toBe(false);
  });

  it('prefers the provider-qualified key over a bare duplicate, whichever comes first', () => {
    expect(ids.get('deepseek/deepseek-chat@2025-11-01')?.tokens_per_million).toEqual({
      input: '0.28',
      cached_input: '0.028',
      output: '0.42',
    });
    expect(why['deepseek-chat']).toBe('duplicate of "deepseek/deepseek-chat" for deepseek deepseek-chat');
    const reversed = Object.fromEntries(Object.entries(real).reverse());
    const again = importLiteLlmPrices(reversed, options).entries;
    expect(
      again.find((entry) => entry.id === 'deepseek/deepseek-chat@2025-11-01')?.tokens_per_million.input,
    ).toBe('0.28');
  });

  it('imports Claude Sonnet 4.5 despite its 1-hour cache write above 200k (another service tier)', () => {
    const sonnet = ids.get('anthropic/claude-sonnet-4-5-20250929@2025-11-01')!;
    expect(sonnet.tokens_per_million.cache_write).toBe('3.75');
    expect(sonnet.tiers).toEqual([
      {
        above_input_tokens: 200_000,
        tokens_per_million: { input: '6', cached_input: '0.6', cache_write: '7.5', output: '22.5' },
      },
    ]);
  });

  it('imports a 128k tier as a tier, so long prompts pay the long-context rate', () => {
    const grok = ids.get('xai/grok-4-0709@2025-11-01')!;
    expect(grok.tiers).toEqual([
      { above_input_tokens: 128_000, tokens_per_million: { input: '6', output: '30' } },
    ]);
    // LiteLLM's bare grok-4 lacks the tier its snapshot has: imported as written, and reported.
    expect(ids.get('xai/grok-4@2025-11-01')?.tiers).toEqual([]);
    expect(imported.warnings).toEqual([
      {
        id: 'xai/grok-4@2025-11-01',
        reason:
          "has no long-context tier, but xai/grok-4-0709@2025-11-01 with the same base rates is billed higher above 128000 prompt tokens; check the provider's page",
      },
    ]);
    const catalog = new PriceCatalog('t', imported.entries);
    const at = Date.parse('2025-11-02T00:00:00Z');
    const entry = catalog.lookup('xai', 'grok-4-0709', at)!;
    expect(computeCost(makeUsage({ input: 130_000 }), entry).input_nanos).toBe(780_000_000);
    expect(computeCost(makeUsage({ input: 120_000 }), entry).input_nanos).toBe(360_000_000);
  });

  it('still refuses what it cannot represent: a tier without its output rate, an unknown cost field', () => {
    expect(why['xai/grok-half-tier']).toBe('output_cost_per_token_above_128k_tokens is missing');
    expect(why['vertex_ai/mystery']).toBe('unsupported cost fields: input_cost_per_token_above_1m_requests');
  });

  it("reads DeepSeek's cache-hit rate as the cached rate, and a 0 optional rate as not given", () => {
    // The real deepseek/deepseek-chat: cache_creation 0.0 would make cache writes free; it is left out.
    expect(ids.get('deepseek/deepseek-chat@2025-11-01')?.tokens_per_million).toEqual({
      input: '0.28',
      cached_input: '0.028',
      output: '0.42',
    });
    expect(ids.get('deepseek/deepseek-coder@2025-11-01')?.tokens_per_million.cached_input).toBe('0.014');
    expect(why['deepseek/deepseek-odd']).toBe(
      'cache_read_input_token_cost ($0.028/M) and input_cost_per_token_cache_hit ($0.07/M) disagree',
    );
  });
});
