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
        'openai/gpt-4o',
      ].sort(),
    );
    expect(reasons['dall-e-3']).toMatch(/mode "image_generation"/);
    expect(reasons['gemini-1.5-pro']).toMatch(/input_cost_per_token_above_128k_tokens/);
    expect(reasons['gemini-2.0-flash-001']).toMatch(/input_cost_per_audio_token/);
    expect(reasons['broken-chat']).toMatch(/output_cost_per_token is missing/);
    expect(reasons['negative-price']).toMatch(/non-negative/);
    expect(reasons['openai/gpt-4o']).toMatch(/duplicate/);
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
