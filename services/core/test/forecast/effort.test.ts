import {
  EFFORT_BANDS,
  EFFORT_CLASSES,
  effortFromName,
  effortFromPromptTokens,
  parseEffort,
  runEffort,
  stepEffort,
  ValidationError,
} from '@burnrate/core';
import { describe, expect, it } from 'vitest';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('effortFromPromptTokens', () => {
  it.each([
    [0, 'xs'],
    [50, 'xs'],
    [999, 'xs'],
    [1_000, 's'],
    [1_999, 's'],
    [2_000, 'm'],
    [49_999, 'm'],
    [50_000, 'l'],
    [249_999, 'l'],
    [250_000, 'xl'],
    [999_999, 'xl'],
    [1_000_000, 'xxl'],
    [50_000_000, 'xxl'],
  ])('%i prompt tokens → %s', (tokens, effort) => {
    expect(effortFromPromptTokens(tokens)).toBe(effort);
  });

  it('bands are contiguous, in class order, and start at 0', () => {
    expect(EFFORT_BANDS.map((b) => b.effort)).toEqual([...EFFORT_CLASSES]);
    expect(EFFORT_BANDS[0]!.minPromptTokens).toBe(0);
    for (let i = 1; i < EFFORT_BANDS.length; i++) {
      expect(EFFORT_BANDS[i]!.minPromptTokens).toBeGreaterThan(EFFORT_BANDS[i - 1]!.minPromptTokens);
      expect(effortFromPromptTokens(EFFORT_BANDS[i]!.minPromptTokens - 1)).toBe(EFFORT_BANDS[i - 1]!.effort);
    }
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses %s naming prompt_tokens', (tokens) => {
    const error = thrown(() => effortFromPromptTokens(tokens)) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.field).toBe('prompt_tokens');
  });
});

describe('parseEffort', () => {
  it.each([
    ['xs', 'xs'],
    ['s', 's'],
    ['m', 'm'],
    ['l', 'l'],
    ['xl', 'xl'],
    ['xxl', 'xxl'],
    ['qa', 'xs'],
    ['code_assist', 's'],
    ['summary', 'm'],
    ['complex_coding', 'l'],
    ['legal_analysis', 'xl'],
    ['multi_agent', 'xxl'],
    [' XL ', 'xl'],
    ['Multi_Agent', 'xxl'],
  ])('%j → %s', (text, effort) => {
    expect(parseEffort(text)).toBe(effort);
  });

  it.each(['', 'xxxl', 'large', 'code-assist', 'x s', '1'])(
    'refuses %j, naming effort and the accepted values',
    (text) => {
      const error = thrown(() => parseEffort(text)) as ValidationError;
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.field).toBe('effort');
      expect(error.code).toBe('invalid_effort');
      expect(error.message).toContain(JSON.stringify(text));
      for (const name of [
        ...EFFORT_CLASSES,
        'qa',
        'code_assist',
        'summary',
        'complex_coding',
        'legal_analysis',
        'multi_agent',
      ]) {
        expect(error.message).toContain(name);
      }
    },
  );

  it('effortFromName answers null instead of throwing', () => {
    expect(effortFromName('bogus')).toBeNull();
    expect(effortFromName(undefined)).toBeNull();
    expect(effortFromName('summary')).toBe('m');
  });
});

describe('stepEffort and runEffort', () => {
  it('a valid effort tag wins over the prompt size; an invalid one is ignored', () => {
    expect(stepEffort({ effort: 'legal_analysis' }, 10)).toBe('xl');
    expect(stepEffort({ effort: 'huge' }, 10)).toBe('xs');
    expect(stepEffort({}, 60_000)).toBe('l');
    expect(stepEffort(undefined, 1_000)).toBe('s');
  });

  it('a run takes the first valid tag by occurred_at, else its total prompt', () => {
    expect(
      runEffort([
        { occurredAt: 3, tags: { effort: 'xxl' }, promptTokens: 10 },
        { occurredAt: 2, tags: { effort: 'nonsense' }, promptTokens: 10 },
        { occurredAt: 1, promptTokens: 10 },
        { occurredAt: 2.5, tags: { effort: 'summary' }, promptTokens: 10 },
      ]),
    ).toBe('m');
    // 600 + 600 = 1,200 tokens: each step alone is xs, the run is s.
    expect(
      runEffort([
        { occurredAt: 1, promptTokens: 600 },
        { occurredAt: 2, tags: { effort: '' }, promptTokens: 600 },
      ]),
    ).toBe('s');
  });
});
