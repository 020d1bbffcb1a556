import { z } from 'zod';
import { type Decimal, decimalFromNumber, parseDecimal } from '../money/decimal.js';
import { decimalToNanos } from '../money/nanos.js';

/**
 * The alert rules and their settings, after defaults, per-plan and per-customer overrides are merged.
 * Ratios (percents, multiples) are exact decimals and amounts integer nano-USD, so "crossed 80 %"
 * is decided without floating point.
 */
export interface RuleSettings {
  /** Period-to-date cost against the customer's monthly budget, and against fixed amounts. */
  budget: {
    enabled: boolean;
    percents: Decimal[];
    amounts_nanos: bigint[];
    /** Amounts for one UTC day's cost. */
    daily_amounts_nanos: bigint[];
  };
  /** Period-end spend projected from the trailing rate, against the budget and the plan's revenue. */
  forecast: {
    enabled: boolean;
    /** No projection before this much of the period has passed (early rates are noise). */
    min_elapsed_hours: number;
    /** …nor before the period's cost reaches this share of the target. */
    min_fraction_percent: number;
    /** Resolved once the projection falls this far below the target. */
    hysteresis_percent: number;
  };
  /** Compute cost against what the customer pays, and against the median customer of the same plan. */
  whale: {
    enabled: boolean;
    multiples: Decimal[];
    /** null: no comparison with the plan's median customer. */
    median_multiple: Decimal | null;
    median_min_customers: number;
    /** Costs below this never count as a whale (a 10× of pennies is not news). */
    min_nanos: bigint;
  };
  /** The last hour's cost against the customer's average hour over the 23 before it. */
  spike: {
    enabled: boolean;
    multiple: Decimal;
    min_nanos: bigint;
    hysteresis_percent: number;
  };
  /** One workflow run past a cap: an agent loop out of control. */
  runaway: {
    enabled: boolean;
    max_cost_nanos: bigint;
    max_steps: number;
    max_retries: number;
    max_depth: number;
  };
  /** A model seen without a price (its events are stored unpriced, never as $0). */
  unpriced_model: { enabled: boolean };
  /** A customer_ref seen that maps to no customer. */
  unmapped_customer: { enabled: boolean };
  /**
   * Not an alert: how GET /v1/budget decides allow, warn or deny for an agent's next step or run.
   * The run caps are the runaway rule's; budgets are the customer's monthly budget.
   */
  guardrail: {
    /** Warn once period-to-date spend reaches this percent of the budget. */
    warn_percent: Decimal;
    /** Deny once it reaches this percent. */
    deny_percent: Decimal;
    /** What a run forecast whose p90 exceeds the remaining budget gets. */
    forecast_action: 'warn' | 'deny';
    /** Deny the next step of a run past one of the runaway caps (false: warn). */
    deny_runaway: boolean;
  };
}

/** The alert rules (the guardrail's settings are not a rule: nothing alerts on them). */
export type RuleName = Exclude<keyof RuleSettings, 'guardrail'>;
export const RULE_NAMES = [
  'budget',
  'forecast',
  'whale',
  'spike',
  'runaway',
  'unpriced_model',
  'unmapped_customer',
] as const satisfies readonly RuleName[];

const dec = (text: string): Decimal => parseDecimal(text, 'default');
const usd = (text: string): bigint => decimalToNanos(parseDecimal(text, 'default'), 'default');

/** What burnrate alerts on when the rules file says nothing. */
export const DEFAULT_RULES: RuleSettings = {
  budget: {
    enabled: true,
    percents: ['50', '80', '100'].map(dec),
    amounts_nanos: [],
    daily_amounts_nanos: [],
  },
  forecast: { enabled: true, min_elapsed_hours: 24, min_fraction_percent: 10, hysteresis_percent: 10 },
  whale: {
    enabled: true,
    multiples: ['1', '5', '10', '50', '100'].map(dec),
    median_multiple: dec('10'),
    median_min_customers: 5,
    min_nanos: usd('1'),
  },
  spike: { enabled: true, multiple: dec('3'), min_nanos: usd('5'), hysteresis_percent: 20 },
  runaway: { enabled: true, max_cost_nanos: usd('25'), max_steps: 50, max_retries: 10, max_depth: 8 },
  unpriced_model: { enabled: true },
  unmapped_customer: { enabled: true },
  guardrail: {
    warn_percent: dec('80'),
    deny_percent: dec('100'),
    forecast_action: 'warn',
    deny_runaway: true,
  },
};

// --- the file form: friendly units (USD amounts, plain numbers), every field optional -------------

const decimalInput = z.union([z.string(), z.number()]).transform((v, ctx): Decimal => {
  try {
    return typeof v === 'number' ? decimalFromNumber(v, 'value') : parseDecimal(v, 'value');
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a plain decimal number such as 80 or "2.5"' });
    return z.NEVER;
  }
});
const positiveDecimal = decimalInput.refine((d) => d.units > 0n, 'must be greater than 0');
const usdInput = decimalInput.transform((d, ctx): bigint => {
  try {
    return decimalToNanos(d, 'value');
  } catch {
    ctx.addIssue({ code: 'custom', message: 'has more than 9 decimals (finer than a nano-USD)' });
    return z.NEVER;
  }
});
const positiveUsd = usdInput.refine((n) => n > 0n, 'must be greater than 0');
const hours = z
  .number()
  .min(0)
  .max(24 * 31);
const percent = z.number().int('must be a whole number of percent').min(0).max(100);
const cap = z.number().int().min(1);

/** Overrides of each rule's settings, as written in the rules file (USD amounts as `*_usd`). */
export const ruleOverridesSchema = z.strictObject({
  budget: z
    .strictObject({
      enabled: z.boolean().optional(),
      percents: z.array(positiveDecimal).optional(),
      amounts_usd: z.array(positiveUsd).optional(),
      daily_amounts_usd: z.array(positiveUsd).optional(),
    })
    .optional(),
  forecast: z
    .strictObject({
      enabled: z.boolean().optional(),
      min_elapsed_hours: hours.optional(),
      min_fraction_percent: percent.optional(),
      hysteresis_percent: percent.optional(),
    })
    .optional(),
  whale: z
    .strictObject({
      enabled: z.boolean().optional(),
      multiples: z.array(positiveDecimal).optional(),
      median_multiple: positiveDecimal.nullable().optional(),
      median_min_customers: z.number().int().min(1).optional(),
      min_usd: usdInput.optional(),
    })
    .optional(),
  spike: z
    .strictObject({
      enabled: z.boolean().optional(),
      multiple: positiveDecimal.optional(),
      min_usd: usdInput.optional(),
      hysteresis_percent: percent.optional(),
    })
    .optional(),
  runaway: z
    .strictObject({
      enabled: z.boolean().optional(),
      max_cost_usd: positiveUsd.optional(),
      max_steps: cap.optional(),
      max_retries: cap.optional(),
      max_depth: cap.optional(),
    })
    .optional(),
  unpriced_model: z.strictObject({ enabled: z.boolean().optional() }).optional(),
  unmapped_customer: z.strictObject({ enabled: z.boolean().optional() }).optional(),
  guardrail: z
    .strictObject({
      warn_percent: positiveDecimal.optional(),
      deny_percent: positiveDecimal.optional(),
      forecast_action: z.enum(['warn', 'deny']).optional(),
      deny_runaway: z.boolean().optional(),
    })
    .optional(),
});

export type RuleOverrides = z.output<typeof ruleOverridesSchema>;

/** Applies overrides on top of settings, rule by rule and field by field (lists replace). */
export function applyOverrides(base: RuleSettings, o: RuleOverrides | undefined): RuleSettings {
  if (!o) return base;
  const pick = <T>(value: T | undefined, fallback: T): T => (value === undefined ? fallback : value);
  return {
    budget: {
      enabled: pick(o.budget?.enabled, base.budget.enabled),
      percents: pick(o.budget?.percents, base.budget.percents),
      amounts_nanos: pick(o.budget?.amounts_usd, base.budget.amounts_nanos),
      daily_amounts_nanos: pick(o.budget?.daily_amounts_usd, base.budget.daily_amounts_nanos),
    },
    forecast: {
      enabled: pick(o.forecast?.enabled, base.forecast.enabled),
      min_elapsed_hours: pick(o.forecast?.min_elapsed_hours, base.forecast.min_elapsed_hours),
      min_fraction_percent: pick(o.forecast?.min_fraction_percent, base.forecast.min_fraction_percent),
      hysteresis_percent: pick(o.forecast?.hysteresis_percent, base.forecast.hysteresis_percent),
    },
    whale: {
      enabled: pick(o.whale?.enabled, base.whale.enabled),
      multiples: pick(o.whale?.multiples, base.whale.multiples),
      median_multiple: pick(o.whale?.median_multiple, base.whale.median_multiple),
      median_min_customers: pick(o.whale?.median_min_customers, base.whale.median_min_customers),
      min_nanos: pick(o.whale?.min_usd, base.whale.min_nanos),
    },
    spike: {
      enabled: pick(o.spike?.enabled, base.spike.enabled),
      multiple: pick(o.spike?.multiple, base.spike.multiple),
      min_nanos: pick(o.spike?.min_usd, base.spike.min_nanos),
      hysteresis_percent: pick(o.spike?.hysteresis_percent, base.spike.hysteresis_percent),
    },
    runaway: {
      enabled: pick(o.runaway?.enabled, base.runaway.enabled),
      max_cost_nanos: pick(o.runaway?.max_cost_usd, base.runaway.max_cost_nanos),
      max_steps: pick(o.runaway?.max_steps, base.runaway.max_steps),
      max_retries: pick(o.runaway?.max_retries, base.runaway.max_retries),
      max_depth: pick(o.runaway?.max_depth, base.runaway.max_depth),
    },
    unpriced_model: { enabled: pick(o.unpriced_model?.enabled, base.unpriced_model.enabled) },
    unmapped_customer: { enabled: pick(o.unmapped_customer?.enabled, base.unmapped_customer.enabled) },
    guardrail: {
      warn_percent: pick(o.guardrail?.warn_percent, base.guardrail.warn_percent),
      deny_percent: pick(o.guardrail?.deny_percent, base.guardrail.deny_percent),
      forecast_action: pick(o.guardrail?.forecast_action, base.guardrail.forecast_action),
      deny_runaway: pick(o.guardrail?.deny_runaway, base.guardrail.deny_runaway),
    },
  };
}
