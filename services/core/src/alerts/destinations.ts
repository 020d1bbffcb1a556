import { z } from 'zod';
import { RULE_NAMES, type RuleName } from '../rules/settings.js';
import { signWebhook } from '../webhooks/standard-webhooks.js';

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Which alerts a destination receives; every condition given must hold, an absent one matches all. */
const matchSchema = z.strictObject({
  rules: z.array(z.enum(RULE_NAMES)).optional(),
  customers: z.array(z.string().min(1)).optional(),
  plans: z.array(z.string().min(1)).optional(),
  min_severity: z.enum(SEVERITIES).optional(),
  /** `fired`, `resolved`, or both (the default). */
  events: z.array(z.enum(['fired', 'resolved'])).optional(),
});

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lower-case letters, digits, "_" or "-" (at most 63)');
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

const secrets = z
  .array(z.string().min(1))
  .min(1, 'must list at least one secret (whsec_…)')
  .max(2, 'holds at most two secrets: the current one and, during a rotation, the next')
  .superRefine((list, ctx) => {
    try {
      signWebhook({ id: 'check', timestampSeconds: 0, body: '', secrets: list });
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  });

export const destinationSchema = z.discriminatedUnion('kind', [
  z.strictObject({ name, kind: z.literal('webhook'), url: httpUrl, secrets, match: matchSchema.optional() }),
  z.strictObject({ name, kind: z.literal('slack'), url: httpUrl, match: matchSchema.optional() }),
  z.strictObject({
    name,
    kind: z.literal('pagerduty'),
    routing_key: z.string().min(1),
    /** The Events API v2 endpoint; the EU service is https://events.eu.pagerduty.com/v2/enqueue. */
    url: httpUrl.default('https://events.pagerduty.com/v2/enqueue'),
    match: matchSchema.optional(),
  }),
]);

export type Destination = z.output<typeof destinationSchema>;

/** What routing looks at in an alert. */
export interface RoutedAlert {
  event: 'fired' | 'resolved';
  rule: RuleName;
  severity: Severity;
  customer_id: string | null;
  plan_kind: string | null;
}

/** The destinations an alert goes to, in configuration order. */
export function routeAlert(destinations: readonly Destination[], alert: RoutedAlert): Destination[] {
  const rank = (s: Severity) => SEVERITIES.indexOf(s);
  return destinations.filter(({ match }) => {
    if (!match) return true;
    if (match.rules && !match.rules.includes(alert.rule)) return false;
    if (match.customers && !(alert.customer_id && match.customers.includes(alert.customer_id))) return false;
    if (match.plans && !(alert.plan_kind && match.plans.includes(alert.plan_kind))) return false;
    if (match.min_severity && rank(alert.severity) < rank(match.min_severity)) return false;
    if (match.events && !match.events.includes(alert.event)) return false;
    return true;
  });
}
