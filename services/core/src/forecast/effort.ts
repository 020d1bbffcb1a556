import type { EffortClass } from '../api/types.js';
import { EFFORT_CLASSES } from '../api/types.js';
import { ValidationError } from '../errors.js';

/**
 * Effort classes by prompt size: input + cached input + cache-write tokens of a step (for a run, the
 * sum over its steps). The bands follow the sizes seen in practice (Q&A 50–500 tokens, code
 * assistance 1,000–2,000, summaries 2,000–6,000, complex coding 50,000–100,000+, legal analysis
 * 250,000+, multi-agent workflows 1M+), made contiguous: each class starts where the one before ends.
 */
export interface EffortBand {
  effort: EffortClass;
  /** Smallest prompt size in the class; the class ends where the next one starts. */
  minPromptTokens: number;
  /** A second name accepted wherever a class is. */
  alias: string;
  /** What such a prompt typically is. */
  work: string;
}

/** The bands, smallest first. */
export const EFFORT_BANDS: readonly EffortBand[] = Object.freeze([
  { effort: 'xs', minPromptTokens: 0, alias: 'qa', work: 'Q&A (50–500 tokens)' },
  { effort: 's', minPromptTokens: 1_000, alias: 'code_assist', work: 'code assistance' },
  { effort: 'm', minPromptTokens: 2_000, alias: 'summary', work: 'summaries (2,000–6,000)' },
  { effort: 'l', minPromptTokens: 50_000, alias: 'complex_coding', work: 'complex coding (50,000–100,000+)' },
  { effort: 'xl', minPromptTokens: 250_000, alias: 'legal_analysis', work: 'legal analysis (250,000+)' },
  { effort: 'xxl', minPromptTokens: 1_000_000, alias: 'multi_agent', work: 'multi-agent workflows (1M+)' },
] satisfies EffortBand[]);

/** Every accepted spelling (class names and aliases, lower case) and the class it names. */
export const EFFORT_NAMES: ReadonlyMap<string, EffortClass> = new Map<string, EffortClass>([
  ...EFFORT_CLASSES.map((c): [string, EffortClass] => [c, c]),
  ...EFFORT_BANDS.map((b): [string, EffortClass] => [b.alias, b.effort]),
]);

/**
 * The class of a prompt of `tokens` tokens.
 * @throws ValidationError (field `prompt_tokens`) unless tokens is a non-negative integer.
 */
export function effortFromPromptTokens(tokens: number): EffortClass {
  if (!Number.isSafeInteger(tokens) || tokens < 0) {
    throw new ValidationError(
      'prompt_tokens',
      `prompt_tokens must be a non-negative whole number, got ${String(tokens)}.`,
      'invalid_effort',
    );
  }
  let effort: EffortClass = 'xs';
  for (const band of EFFORT_BANDS) if (tokens >= band.minPromptTokens) effort = band.effort;
  return effort;
}

/** The class a text names (a class or an alias, any case, surrounding spaces ignored), or null. */
export function effortFromName(text: string | null | undefined): EffortClass | null {
  if (typeof text !== 'string') return null;
  return EFFORT_NAMES.get(text.trim().toLowerCase()) ?? null;
}

/**
 * Parses an effort class given by name or alias: "l", "complex_coding" → "l".
 * @throws ValidationError (field `effort`) listing the accepted values otherwise.
 */
export function parseEffort(text: string): EffortClass {
  const effort = effortFromName(text);
  if (effort !== null) return effort;
  throw new ValidationError(
    'effort',
    `effort must be one of ${EFFORT_CLASSES.join(', ')} or an alias (${EFFORT_BANDS.map((b) => b.alias).join(', ')}), got "${String(text)}".`,
    'invalid_effort',
  );
}

/** A step's class: its `effort` tag when that names a class, else its prompt size. */
export function stepEffort(
  tags: Readonly<Record<string, string>> | undefined,
  promptTokens: number,
): EffortClass {
  return effortFromName(tags?.effort) ?? effortFromPromptTokens(promptTokens);
}

/** One step of a run, as far as its effort class is concerned. */
export interface EffortStep {
  occurredAt: number;
  tags?: Readonly<Record<string, string>>;
  promptTokens: number;
}

/**
 * A run's class: the `effort` tag of its first step (by occurred_at) that carries a valid one, else
 * the class of the run's total prompt tokens.
 */
export function runEffort(steps: readonly EffortStep[]): EffortClass {
  const tagged = steps
    .filter((s) => effortFromName(s.tags?.effort) !== null)
    .sort((a, b) => a.occurredAt - b.occurredAt)[0];
  if (tagged) return effortFromName(tagged.tags?.effort)!;
  return effortFromPromptTokens(steps.reduce((sum, s) => sum + s.promptTokens, 0));
}
