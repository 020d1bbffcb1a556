import { formatDecimal, formatNanosAsUsd, type PriceCatalog, PriceOverrides } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import { classifyClickHouseError } from '../clickhouse/errors.js';
import { type FactRow, repriceFact } from '../reprice/price-fact.js';
import { checkIdentifier } from '../reprice/sql.js';

/**
 * FOCUS 1.2 (FinOps Open Cost and Usage Specification) rows from the facts in ClickHouse.
 * docs/focus.md lists every column, where its value comes from and which FOCUS columns are left out.
 */

/** The length of one charge period (ChargePeriodStart/End). */
export type Grain = 'hour' | 'day';
export const GRAINS: readonly Grain[] = ['hour', 'day'];
export const GRAIN_MS: Record<Grain, number> = { hour: 3_600_000, day: 86_400_000 };
const GRAIN_SQL: Record<Grain, string> = { hour: 'toStartOfHour', day: 'toStartOfDay' };

/** FOCUS 1.2 columns that apply to LLM usage, alphabetical as the specification lists them. */
export const FOCUS_COLUMNS = [
  'BilledCost',
  'BillingAccountId',
  'BillingAccountName',
  'BillingCurrency',
  'BillingPeriodEnd',
  'BillingPeriodStart',
  'ChargeCategory',
  'ChargeClass',
  'ChargeDescription',
  'ChargeFrequency',
  'ChargePeriodEnd',
  'ChargePeriodStart',
  'ConsumedQuantity',
  'ConsumedUnit',
  'ContractedCost',
  'EffectiveCost',
  'InvoiceIssuerName',
  'ListCost',
  'PricingCategory',
  'PricingQuantity',
  'PricingUnit',
  'ProviderName',
  'PublisherName',
  'ResourceId',
  'ResourceName',
  'ResourceType',
  'ServiceCategory',
  'ServiceName',
  'ServiceSubcategory',
  'SkuId',
  'SkuMeter',
  'SkuPriceId',
  'SubAccountId',
  'SubAccountName',
] as const;

/** burnrate's own columns, after the FOCUS ones as the specification asks. */
export const CUSTOM_COLUMNS = [
  'x_ChargeKind',
  'x_Workflow',
  'x_Feature',
  'x_PriceVersion',
  'x_BilledCostNanos',
  'x_ListCostNanos',
  'x_Events',
  'x_UnpricedEvents',
  'x_ByokEvents',
  'x_Images',
  'x_AudioMilliseconds',
  'x_WebSearchCalls',
] as const;

export const EXPORT_COLUMNS = [...FOCUS_COLUMNS, ...CUSTOM_COLUMNS] as const;
export type ExportColumn = (typeof EXPORT_COLUMNS)[number];

/** Columns FOCUS 1.2 says MUST NOT be null (mandatory or recommended and non-nullable). */
export const NON_NULL_COLUMNS: readonly ExportColumn[] = [
  'BilledCost',
  'BillingAccountId',
  'BillingAccountName',
  'BillingCurrency',
  'BillingPeriodEnd',
  'BillingPeriodStart',
  'ChargeCategory',
  'ChargeDescription',
  'ChargeFrequency',
  'ChargePeriodEnd',
  'ChargePeriodStart',
  'ConsumedQuantity',
  'ConsumedUnit',
  'ContractedCost',
  'EffectiveCost',
  'InvoiceIssuerName',
  'ListCost',
  'PricingCategory',
  'PricingQuantity',
  'PricingUnit',
  'ProviderName',
  'PublisherName',
  'ServiceCategory',
  'ServiceName',
  'ServiceSubcategory',
  'SkuId',
  'SubAccountId',
  'SubAccountName',
];

/** One charge of an event: a token bucket, the per-request fee, or the media and tool units. */
interface Charge {
  kind: string;
  /** SQL for the consumed quantity of one fact (UInt64). */
  quantity: string;
  cost: keyof FactRow & `cost_${string}`;
  consumedUnit: string;
  /** Token prices are per million tokens in the catalog; fees are per request. */
  pricingUnit: string;
  pricingScale: number;
  meter: string;
}

const TOKENS = (kind: string, meter: string): Charge => ({
  kind,
  quantity: `tokens_${kind}`,
  cost: `cost_${kind}_nanos` as Charge['cost'],
  consumedUnit: 'Tokens',
  pricingUnit: '1000000 Tokens',
  pricingScale: 6,
  meter,
});

export const CHARGES: readonly Charge[] = [
  TOKENS('input', 'Input Tokens'),
  TOKENS('cached_input', 'Cached Input Tokens'),
  TOKENS('cache_write', 'Cache Write Tokens'),
  TOKENS('output', 'Output Tokens'),
  TOKENS('reasoning', 'Reasoning Tokens'),
  {
    // Only requests that carry a fee: most providers charge none, and a charge row is a charge.
    kind: 'request',
    quantity: 'if(cost_request_nanos != 0, toUInt64(requests), 0)',
    cost: 'cost_request_nanos',
    consumedUnit: 'Requests',
    pricingUnit: 'Requests',
    pricingScale: 0,
    meter: 'Requests',
  },
  {
    // Images, audio and web search are priced separately but stored as one cost column, so they are
    // one charge: the requests that used any of them; the per-kind counts are x_ columns.
    kind: 'units',
    quantity: 'if(units_images + units_audio_ms + units_web_search_calls > 0, toUInt64(requests), 0)',
    cost: 'cost_units_nanos',
    consumedUnit: 'Requests',
    pricingUnit: 'Requests',
    pricingScale: 0,
    meter: 'Images, Audio and Web Search',
  },
];
const CHARGE_BY_KIND = new Map(CHARGES.map((c) => [c.kind, c]));

export interface FocusQuery {
  client: ClickHouseClient;
  database: string;
  fromMs: number;
  toMs: number;
  grain: Grain;
}

/** The grouping every row of the export is one of; also the key list costs are summed under. */
const GROUP_KEY = ['period_s', 'customer_id', 'provider', 'model', 'workflow', 'feature', 'price_version'];

function where(): string {
  return `occurred_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND occurred_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`;
}

function params(q: FocusQuery): Record<string, unknown> {
  return { from: q.fromMs, to: q.toMs };
}

/** A fact takes part in a charge row when it has a quantity or a cost of that charge. */
const CHARGED = '(charge_quantity > 0 OR charge_cost != 0)';

/**
 * One row per charge period × customer × provider × model × workflow × feature × price version ×
 * charge, with exact 64-bit sums; charges with neither quantity nor cost are left out.
 */
export function focusSql(database: string, grain: Grain): string {
  const db = checkIdentifier(database, 'CLICKHOUSE_DATABASE');
  const kinds = CHARGES.map((c) => `'${c.kind}'`).join(', ');
  return `
SELECT
  toUnixTimestamp(${GRAIN_SQL[grain]}(occurred_at)) AS period_s,
  customer_id,
  argMax(customer_name, occurred_at) AS customer_name,
  provider, model, workflow, feature, price_version,
  charge,
  sum(charge_quantity) AS quantity,
  sum(charge_cost) AS cost_nanos,
  countIf(${CHARGED}) AS events,
  countIf(${CHARGED} AND unpriced = 1) AS unpriced_events,
  countIf(${CHARGED} AND byok = 1) AS byok_events,
  sumIf(toUInt64(units_images), charge = 'units') AS images,
  sumIf(units_audio_ms, charge = 'units') AS audio_ms,
  sumIf(toUInt64(units_web_search_calls), charge = 'units') AS web_search_calls
FROM ${db}.usage_events
ARRAY JOIN
  [${kinds}] AS charge,
  [${CHARGES.map((c) => c.quantity).join(', ')}] AS charge_quantity,
  [${CHARGES.map((c) => c.cost).join(', ')}] AS charge_cost
WHERE ${where()}
GROUP BY ${[...GROUP_KEY, 'charge'].join(', ')}
HAVING quantity > 0 OR cost_nanos != 0
ORDER BY ${GROUP_KEY.join(', ')}, indexOf([${kinds}], charge)`;
}

/** A grouped row as ClickHouse returns it (64-bit integers as decimal strings). */
export interface GroupRow {
  period_s: number;
  customer_id: string;
  customer_name: string;
  provider: string;
  model: string;
  workflow: string;
  feature: string;
  price_version: string;
  charge: string;
  quantity: string;
  cost_nanos: string;
  events: string;
  unpriced_events: string;
  byok_events: string;
  images: string;
  audio_ms: string;
  web_search_calls: string;
}

function groupKey(row: object, charge: string): string {
  const fields = row as Record<string, unknown>;
  return JSON.stringify([...GROUP_KEY.map((k) => String(fields[k])), charge]);
}

/**
 * List cost differs from the booked cost only where a customer override priced the fact (its
 * price_version has a `+` part). Those facts are priced again with the catalog alone, through the
 * same resolvePrice + computeCost as enrichment, and summed per row; every other row's list cost is
 * its booked cost. Returns the differing list costs by row key.
 */
export async function overriddenListCosts(
  q: FocusQuery,
  catalog: PriceCatalog,
): Promise<Map<string, bigint>> {
  const db = checkIdentifier(q.database, 'CLICKHOUSE_DATABASE');
  const sql = `
SELECT toUnixTimestamp(${GRAIN_SQL[q.grain]}(occurred_at)) AS period_s, workflow, feature,
  event_id, toUnixTimestamp64Milli(occurred_at) AS occurred_at_ms, billing_period_start, customer_id,
  unmapped, provider, model, tokens_input, tokens_cached_input, tokens_cache_write, tokens_output,
  tokens_reasoning, requests, units_images, units_audio_ms, units_web_search_calls,
  cost_input_nanos, cost_cached_input_nanos, cost_cache_write_nanos, cost_output_nanos,
  cost_reasoning_nanos, cost_request_nanos, cost_units_nanos, cost_total_nanos,
  price_version, unpriced, byok
FROM ${db}.usage_events
WHERE ${where()} AND position(price_version, '+') > 0`;
  const reference = { prices: catalog, overrides: PriceOverrides.empty() };
  const sums = new Map<string, bigint>();
  try {
    const result = await q.client.query({ query: sql, query_params: params(q), format: 'JSONEachRow' });
    for await (const rows of result.stream<
      FactRow & { period_s: number; workflow: string; feature: string }
    >()) {
      for (const raw of rows) {
        const fact = raw.json();
        const list = repriceFact(fact, reference);
        for (const charge of CHARGES) {
          // No list price for the model (a contracted price for a model the catalog lacks): the
          // contract is the only price there is, so the list cost is the booked cost.
          const nanos =
            list.unpriced && list.price_version === '' ? BigInt(fact[charge.cost]) : list[charge.cost];
          const key = groupKey(fact, charge.kind);
          sums.set(key, (sums.get(key) ?? 0n) + nanos);
        }
      }
    }
  } catch (error) {
    throw classifyClickHouseError(error, 'reading overridden facts for list costs');
  }
  return sums;
}

/** Counts the rows the export will write (for the progress bar). */
export async function countFocusRows(q: FocusQuery): Promise<number> {
  try {
    const result = await q.client.query({
      query: `SELECT count() AS n FROM (${focusSql(q.database, q.grain)})`,
      query_params: params(q),
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ n: string }>();
    return Number(row?.n ?? 0);
  } catch (error) {
    throw classifyClickHouseError(error, 'counting export rows');
  }
}

/** The grouped rows, streamed in order. */
export async function* focusGroups(q: FocusQuery): AsyncGenerator<GroupRow> {
  let result: Awaited<ReturnType<ClickHouseClient['query']>>;
  try {
    result = await q.client.query({
      query: focusSql(q.database, q.grain),
      query_params: params(q),
      format: 'JSONEachRow',
    });
  } catch (error) {
    throw classifyClickHouseError(error, 'reading usage for the FOCUS export');
  }
  for await (const rows of result.stream<GroupRow>()) {
    for (const row of rows) yield row.json();
  }
}

/** `YYYY-MM-DDTHH:mm:ssZ`, the FOCUS date/time format. */
export function focusInstant(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** An exact decimal: `quantity / 10^scale`, e.g. 1_234 tokens → "0.001234" million tokens. */
function scaled(quantity: bigint, scale: number): string {
  return formatDecimal({ units: quantity, scale });
}

/** The stable part of a price_version (entry and override ids, without the file versions). */
function priceIds(priceVersion: string): string {
  return priceVersion
    .split('+')
    .map((part) => part.slice(part.indexOf(':') + 1))
    .join('+');
}

/** One CSV record in EXPORT_COLUMNS order; null is an empty cell (FOCUS null). */
export function focusRecord(row: GroupRow, listNanos: bigint | undefined, grain: Grain): (string | null)[] {
  const charge = CHARGE_BY_KIND.get(row.charge);
  if (!charge) throw new Error(`unknown charge kind ${row.charge}`);
  const startMs = row.period_s * 1000;
  const start = new Date(startMs);
  const billingStart = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1);
  const billingEnd = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
  const cost = BigInt(row.cost_nanos);
  const list = listNanos ?? cost;
  const quantity = BigInt(row.quantity);
  const money = (nanos: bigint) => formatNanosAsUsd(nanos, 0);
  const units = row.charge === 'units';
  const values: Record<ExportColumn, string | null> = {
    BilledCost: money(cost),
    BillingAccountId: row.provider,
    BillingAccountName: row.provider,
    BillingCurrency: 'USD',
    BillingPeriodEnd: focusInstant(billingEnd),
    BillingPeriodStart: focusInstant(billingStart),
    ChargeCategory: 'Usage',
    ChargeClass: null,
    ChargeDescription: `${row.model} ${charge.meter.toLowerCase()} (${row.provider})`,
    ChargeFrequency: 'Usage-Based',
    ChargePeriodEnd: focusInstant(startMs + GRAIN_MS[grain]),
    ChargePeriodStart: focusInstant(startMs),
    ConsumedQuantity: quantity.toString(),
    ConsumedUnit: charge.consumedUnit,
    ContractedCost: money(cost),
    EffectiveCost: money(cost),
    InvoiceIssuerName: row.provider,
    ListCost: money(list),
    PricingCategory: 'Standard',
    PricingQuantity: scaled(quantity, charge.pricingScale),
    PricingUnit: charge.pricingUnit,
    ProviderName: row.provider,
    PublisherName: row.provider,
    ResourceId: `${row.provider}/${row.model}`,
    ResourceName: row.model,
    ResourceType: 'Model',
    ServiceCategory: 'AI and Machine Learning',
    ServiceName: row.provider,
    ServiceSubcategory: 'Generative AI',
    SkuId: `${row.provider}/${row.model}/${charge.kind}`,
    SkuMeter: charge.meter,
    SkuPriceId: row.price_version === '' ? null : `${priceIds(row.price_version)}/${charge.kind}`,
    SubAccountId: row.customer_id,
    SubAccountName: row.customer_name === '' ? row.customer_id : row.customer_name,
    x_ChargeKind: charge.kind,
    x_Workflow: row.workflow === '' ? null : row.workflow,
    x_Feature: row.feature === '' ? null : row.feature,
    x_PriceVersion: row.price_version === '' ? null : row.price_version,
    x_BilledCostNanos: cost.toString(),
    x_ListCostNanos: list.toString(),
    x_Events: row.events,
    x_UnpricedEvents: row.unpriced_events,
    x_ByokEvents: row.byok_events,
    x_Images: units ? row.images : null,
    x_AudioMilliseconds: units ? row.audio_ms : null,
    x_WebSearchCalls: units ? row.web_search_calls : null,
  };
  return EXPORT_COLUMNS.map((c) => values[c]);
}

/** The key of a grouped row in the list-cost map. */
export function rowKey(row: GroupRow): string {
  return groupKey(row, row.charge);
}
