/** How a customer pays us; the margin views compare this revenue with attributed cost. */
export const PLAN_KINDS = ['flat_rate', 'usage_based', 'enterprise'] as const;
export type PlanKind = (typeof PLAN_KINDS)[number];

export const PLAN_PERIODS = ['month'] as const;
export type PlanPeriod = (typeof PLAN_PERIODS)[number];

export interface CustomerPlan {
  kind: PlanKind;
  /** Revenue per period in nano-units of `currency` (BigInt: enterprise deals pass 2^53 nanos). */
  revenue_nanos: bigint;
  /** ISO 4217 code, e.g. "USD". */
  currency: string;
  period: PlanPeriod;
}

/**
 * Maps a `customer_ref` (what services put on events) to a customer, effective-dated so a plan
 * change applies from its date on and replays see the plan of the event's day.
 */
export interface CustomerRecord {
  customer_ref: string;
  customer_id: string;
  name: string;
  /** Owning team or segment; '' when none. */
  team: string;
  plan: CustomerPlan;
  /** Cost budget per month in nano-USD; null for no budget. */
  monthly_budget_nanos: bigint | null;
  /** Day of month (1–28) the billing period starts, so every month has it. */
  billing_anchor_day: number;
  /** Canonical ISO-8601 instant (toISOString form); the record holds from here… */
  valid_from: string;
  /** …up to here, exclusive; null for open-ended. */
  valid_to: string | null;
}

/** A lookup that found a record. */
export interface MappedCustomer extends CustomerRecord {
  readonly unmapped: false;
}

/**
 * A lookup that found nothing: the event is still attributed, to `unmapped:<ref>`, and counted, so
 * unknown customers show up in every view instead of vanishing.
 */
export interface UnmappedCustomer {
  readonly unmapped: true;
  customer_ref: string;
  customer_id: string;
  name: '';
  team: '';
  plan: null;
  monthly_budget_nanos: null;
  billing_anchor_day: null;
  valid_from: null;
  valid_to: null;
}

export type CustomerMatch = MappedCustomer | UnmappedCustomer;

/** The customer_id of events whose ref has no record. */
export function unmappedCustomerId(customerRef: string): string {
  return `unmapped:${customerRef}`;
}

export function unmappedCustomer(customerRef: string): UnmappedCustomer {
  return {
    unmapped: true,
    customer_ref: customerRef,
    customer_id: unmappedCustomerId(customerRef),
    name: '',
    team: '',
    plan: null,
    monthly_budget_nanos: null,
    billing_anchor_day: null,
    valid_from: null,
    valid_to: null,
  };
}
