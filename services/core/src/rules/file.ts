import { z } from 'zod';
import { type Destination, destinationSchema } from '../alerts/destinations.js';
import { ConfigError } from '../errors.js';
import { describeValue } from '../money/decimal.js';
import {
  applyOverrides,
  DEFAULT_RULES,
  type RuleOverrides,
  type RuleSettings,
  ruleOverridesSchema,
} from './settings.js';

/**
 * The alerting file (BURNRATE_RULES_FILE): rule defaults, per-plan and per-customer overrides, and
 * the destinations alerts are delivered to. Customer overrides win over plan overrides, which win
 * over the defaults; each rule's fields merge one by one.
 */
export const alertingFileSchema = z
  .strictObject({
    version: z.literal(1).optional(),
    defaults: ruleOverridesSchema.optional(),
    /** Keyed by plan kind (flat_rate, usage_based, enterprise). */
    plans: z.record(z.string(), ruleOverridesSchema).optional(),
    /** Keyed by customer_id. */
    customers: z.record(z.string(), ruleOverridesSchema).optional(),
    destinations: z.array(destinationSchema).optional(),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.destinations?.forEach((d, i) => {
      if (seen.has(d.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['destinations', i, 'name'],
          message: `repeats the name "${d.name}"`,
        });
      }
      seen.add(d.name);
    });
  });

/** The rules in force for each customer, from one validated alerting file. */
export class RuleBook {
  private readonly base: RuleSettings;
  private readonly memo = new Map<string, RuleSettings>();

  constructor(
    private readonly plans: Record<string, RuleOverrides> = {},
    private readonly customers: Record<string, RuleOverrides> = {},
    defaults?: RuleOverrides,
  ) {
    this.base = applyOverrides(DEFAULT_RULES, defaults);
  }

  get defaults(): RuleSettings {
    return this.base;
  }

  /** Settings for a customer: defaults ← its plan's overrides ← its own. */
  for(customerId: string, planKind: string): RuleSettings {
    const key = `${planKind}\u0000${customerId}`;
    let settings = this.memo.get(key);
    if (!settings) {
      settings = applyOverrides(applyOverrides(this.base, this.plans[planKind]), this.customers[customerId]);
      if (this.memo.size > 100_000) this.memo.clear();
      this.memo.set(key, settings);
    }
    return settings;
  }
}

export interface AlertingConfig {
  rules: RuleBook;
  destinations: Destination[];
  /** Where it came from, for messages: a file path or "built-in defaults". */
  source: string;
}

export const BUILT_IN_ALERTING: AlertingConfig = {
  rules: new RuleBook(),
  destinations: [],
  source: 'built-in defaults',
};

/**
 * Validates a parsed alerting file.
 * @throws ConfigError (field BURNRATE_RULES_FILE) whose message names the section, rule and field at
 *   fault, e.g. `plans.flat_rate: the whale rule's multiples[2] must be greater than 0 (got -1).`
 */
export function parseAlertingConfig(value: unknown, source: string): AlertingConfig {
  const result = alertingFileSchema.safeParse(value ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigError(
      'BURNRATE_RULES_FILE',
      `BURNRATE_RULES_FILE (${source}) is invalid: ${describeIssue(issue, value)}`,
    );
  }
  const file = result.data;
  return {
    rules: new RuleBook(file.plans, file.customers, file.defaults),
    destinations: file.destinations ?? [],
    source,
  };
}

function describeIssue(issue: z.core.$ZodIssue, root: unknown): string {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const got = valueAt(root, path);
  // Destinations hold secrets (webhook secrets, routing keys, URLs with a token in the path), often
  // filled in from the environment: their values are never echoed.
  const secret = path[0] === 'destinations';
  const shown = got === undefined || secret ? '' : ` (got ${describeValue(got)})`;
  const field = (parts: (string | number)[]) =>
    parts.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
  if (issue.code === 'unrecognized_keys') {
    const at = path.length ? field(path) : 'the top level';
    return `${at}: unknown setting ${issue.keys.map((k) => `"${k}"`).join(', ')}; check its spelling.`;
  }
  // defaults.<rule>.<field…>, plans.<plan>.<rule>.<field…>, customers.<id>.<rule>.<field…>
  const [section] = path;
  if (section === 'defaults' || section === 'plans' || section === 'customers') {
    const ruleAt = section === 'defaults' ? 1 : 2;
    const rule = path[ruleAt];
    const rest = path.slice(ruleAt + 1);
    if (rule !== undefined && rest.length > 0) {
      return `${where(path.slice(0, ruleAt))}: the ${rule} rule's ${field(rest)} ${issue.message}${shown}.`;
    }
  }
  if (section === 'destinations' && typeof path[1] === 'number') {
    const entry = valueAt(root, path.slice(0, 2)) as { name?: unknown } | undefined;
    const label =
      typeof entry?.name === 'string' ? `destination "${entry.name}"` : `destinations[${path[1]}]`;
    const rest = path.slice(2);
    return `${label}: ${rest.length ? `${field(rest)} ` : ''}${issue.message}${shown}.`;
  }
  return `${path.length ? `${field(path)} ` : ''}${issue.message}${shown}.`;
}

function where(path: (string | number)[]): string {
  const [section, key] = path;
  if (section === 'plans' && key !== undefined) return `plans.${key}`;
  if (section === 'customers' && key !== undefined) return `customers.${key}`;
  if (section === 'destinations' && typeof key === 'number') return `destinations[${key}]`;
  return path.length ? path.join('.') : 'the top level';
}

function valueAt(root: unknown, path: (string | number)[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}
