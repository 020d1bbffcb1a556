import { computeCost, loadBundledCatalog, normalizeProvider } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { makeUsage } from '../fixtures/reference-data.js';

const catalog = loadBundledCatalog();
const NOW = Date.parse('2025-11-26T00:00:00Z');
const rates = (provider: string, model: string, atMs = NOW) =>
  catalog.lookup(provider, model, atMs)?.tokens_per_million;

describe('bundled price catalog', () => {
  it('loads, validates and cites a source for every entry', () => {
    expect(catalog.version).toMatch(/^\d{4}-\d{2}-\d{2}\.\d+$/);
    for (const entry of catalog.entries) {
      expect(entry.source_url, entry.id).toMatch(/^https:\/\//);
      expect(entry.as_of, entry.id).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it('covers the providers the pipeline is expected to see', () => {
    const providers = new Set(catalog.entries.map((entry) => entry.provider));
    for (const provider of [
      'openai',
      'azure_openai',
      'anthropic',
      'google',
      'mistral',
      'deepseek',
      'xai',
      'groq',
      'together',
      'bedrock',
    ]) {
      expect(providers, provider).toContain(provider);
    }
  });

  it.each([
    ['openai', 'gpt-4o'],
    ['openai', 'gpt-4o-mini'],
    ['openai', 'gpt-4.1'],
    ['openai', 'gpt-4.1-mini'],
    ['openai', 'gpt-4.1-nano'],
    ['openai', 'o3'],
    ['openai', 'o4-mini'],
    ['openai', 'gpt-5'],
    ['openai', 'gpt-5-mini'],
    ['openai', 'gpt-5-nano'],
    ['anthropic', 'claude-opus-4-1-20250805'],
    ['anthropic', 'claude-sonnet-4-5'],
    ['anthropic', 'claude-sonnet-4-20250514'],
    ['anthropic', 'claude-haiku-4-5'],
    ['anthropic', 'claude-3-5-haiku-20241022'],
    ['gemini', 'gemini-2.5-pro'],
    ['google', 'gemini-2.5-flash'],
    ['google', 'gemini-2.5-flash-lite'],
    ['google', 'gemini-2.0-flash'],
    ['mistral', 'mistral-large-latest'],
    ['deepseek', 'deepseek-chat'],
    ['deepseek', 'deepseek-reasoner'],
    ['xai', 'grok-4'],
    ['groq', 'llama-3.3-70b-versatile'],
    ['together_ai', 'meta-llama/Llama-3.3-70B-Instruct-Turbo'],
    ['aws.bedrock', 'us.meta.llama3-3-70b-instruct-v1:0'],
  ])('prices %s %s', (provider, model) => {
    expect(catalog.lookup(provider, model, NOW), `${normalizeProvider(provider)} ${model}`).toBeDefined();
  });

  it('carries known list prices', () => {
    expect(rates('openai', 'gpt-4o')).toEqual({ input: '2.50', cached_input: '1.25', output: '10.00' });
    expect(rates('openai', 'gpt-4o', Date.parse('2024-07-01T00:00:00Z'))).toEqual({
      input: '5.00',
      output: '15.00',
    });
    expect(rates('openai', 'gpt-4o-2024-05-13')).toEqual({ input: '5.00', output: '15.00' });
    expect(rates('openai', 'gpt-4o-2024-11-20')?.input).toBe('2.50');
    expect(rates('anthropic', 'claude-sonnet-4-5')).toEqual({
      input: '3.00',
      cached_input: '0.30',
      cache_write: '3.75',
      output: '15.00',
    });
    expect(rates('deepseek', 'deepseek-reasoner', Date.parse('2025-08-01T00:00:00Z'))?.output).toBe('2.19');
    expect(rates('deepseek', 'deepseek-reasoner')?.cached_input).toBe('0.028');
  });

  it('bills Claude Sonnet 4.5 long context at the higher tier', () => {
    const sonnet = catalog.lookup('anthropic', 'claude-sonnet-4-5', NOW)!;
    const cost = computeCost(makeUsage({ input: 250_000, output: 1_000 }), sonnet);
    expect(cost.tier_above_input_tokens).toBe(200_000);
    expect(cost.input_nanos).toBe(1_500_000_000); // 250k × $6/M
    expect(cost.output_nanos).toBe(22_500_000); // 1k × $22.50/M
  });

  it('bills Gemini 2.5 Pro above 200k prompt tokens at the higher tier', () => {
    const pro = catalog.lookup('google', 'gemini-2.5-pro', NOW)!;
    expect(computeCost(makeUsage({ input: 200_000 }), pro).input_nanos).toBe(250_000_000);
    expect(computeCost(makeUsage({ input: 200_001 }), pro).input_nanos).toBe(500_002_500);
  });

  it('charges Gemini 3 Pro web search at $14 per 1,000 queries', () => {
    const pro = catalog.lookup('google', 'gemini-3-pro-preview', NOW)!;
    expect(pro.fees.per_web_search_call).toBe('0.014');
    expect(computeCost(makeUsage({}, { web_search_calls: 1_000 }), pro).web_search_nanos).toBe(
      14_000_000_000,
    );
  });
});
