import { formatInstant } from '../reference/effective.js';
import { Fields } from '../reference/fields.js';
import { type CustomerRecord, PLAN_KINDS, PLAN_PERIODS } from './types.js';

const CODE = 'invalid_customer';
const RECORD_KEYS = [
  'customer_ref',
  'customer_id',
  'name',
  'team',
  'plan',
  'monthly_budget_nanos',
  'billing_anchor_day',
  'valid_from',
  'valid_to',
];
const PLAN_KEYS = ['kind', 'revenue_nanos', 'currency', 'period'];

export interface CustomerParseOptions {
  /** Names the record in messages, e.g. `Line 3` or `Customer message`. */
  where?: string;
  /** Joins nested names in errors: '.' (plan.kind) for JSON, '_' (plan_kind) for CSV columns. */
  separator?: string;
}

/**
 * Validates one customer record in its JSON shape (nanos as integer strings or safe integers,
 * instants as ISO-8601). valid_from defaults to the epoch; instants are stored canonically.
 * @throws ValidationError (code `invalid_customer`) naming the field.
 */
export function parseCustomerRecord(value: unknown, options: CustomerParseOptions = {}): CustomerRecord {
  const where = options.where ?? 'Customer record';
  const fields = Fields.of(value, where, '', CODE, options.separator ?? '.');
  fields.onlyKeys(RECORD_KEYS);
  const window = fields.window(0);
  const plan = fields.nested('plan');
  plan.onlyKeys(PLAN_KEYS);
  const currency = plan.string('currency');
  if (!/^[A-Z]{3}$/.test(currency))
    plan.fail('currency', `must be an ISO 4217 code such as "USD", got "${currency}"`);
  return {
    customer_ref: fields.string('customer_ref'),
    customer_id: fields.string('customer_id'),
    name: fields.optionalString('name') ?? '',
    team: fields.optionalString('team') ?? '',
    plan: {
      kind: plan.oneOf('kind', PLAN_KINDS),
      revenue_nanos: plan.has('revenue_nanos') ? plan.nanos('revenue_nanos') : 0n,
      currency,
      period: plan.has('period') ? plan.oneOf('period', PLAN_PERIODS) : 'month',
    },
    monthly_budget_nanos: fields.has('monthly_budget_nanos') ? fields.nanos('monthly_budget_nanos') : null,
    billing_anchor_day: fields.has('billing_anchor_day') ? fields.integer('billing_anchor_day', 1, 28) : 1,
    valid_from: formatInstant(window.fromMs),
    valid_to: Number.isFinite(window.toMs) ? formatInstant(window.toMs) : null,
  };
}

/** The JSON shape of a record: BigInt amounts as decimal strings, so no reader loses digits. */
export function customerRecordToJson(record: CustomerRecord): Record<string, unknown> {
  return {
    customer_ref: record.customer_ref,
    customer_id: record.customer_id,
    // Empty name/team are omitted: the parser treats them as optional but refuses "" when present.
    ...(record.name === '' ? {} : { name: record.name }),
    ...(record.team === '' ? {} : { team: record.team }),
    plan: {
      kind: record.plan.kind,
      revenue_nanos: record.plan.revenue_nanos.toString(),
      currency: record.plan.currency,
      period: record.plan.period,
    },
    monthly_budget_nanos:
      record.monthly_budget_nanos === null ? null : record.monthly_budget_nanos.toString(),
    billing_anchor_day: record.billing_anchor_day,
    valid_from: record.valid_from,
    valid_to: record.valid_to,
  };
}
