export * from './aggregates/batch.js';
export * from './aggregates/usage-row.js';
export * from './alerts/alert-id.js';
export * from './alerts/destinations.js';
export * from './alerts/payload.js';
export * from './api/money.js';
export * from './api/types.js';
export * from './contract/canonical-form.js';
export * from './contract/codec.js';
export * from './contract/compatibility.js';
export * from './contract/decode-error.js';
export * from './contract/event-id.js';
export * from './contract/fingerprint.js';
export {
  CONFLUENT_HEADER_BYTES,
  type ConfluentFramingOptions,
  SINGLE_OBJECT_HEADER_BYTES,
  SINGLE_OBJECT_MAGIC,
} from './contract/framing.js';
export * from './contract/schema-registry.js';
export * from './contract/usage-event.js';
export * from './contract/validate.js';
export * from './customers/billing-period.js';
export * from './customers/import.js';
export * from './customers/kafka.js';
export * from './customers/record.js';
export * from './customers/table.js';
export * from './customers/types.js';
export * from './enrich/columns.js';
export * from './enrich/enrich.js';
export * from './enrich/timeliness.js';
export * from './errors.js';
export * from './forecast/answer.js';
export * from './forecast/effort.js';
export * from './forecast/routing.js';
export * from './guardrail/decide.js';
export * from './money/decimal.js';
export * from './money/nanos.js';
export * from './money/rounding.js';
export * from './pricing/bundled.js';
export * from './pricing/catalog.js';
export * from './pricing/content-digest.js';
export * from './pricing/cost.js';
export * from './pricing/litellm.js';
export * from './pricing/normalize.js';
export * from './pricing/overrides.js';
export { parseCatalog } from './pricing/parse.js';
export * from './pricing/resolve.js';
export * from './pricing/types.js';
export * from './reference/effective.js';
export * from './rules/evaluate.js';
export * from './rules/file.js';
export * from './rules/settings.js';
export * from './rules/snapshots.js';
export * from './webhooks/standard-webhooks.js';
export * from './windows/windows.js';
