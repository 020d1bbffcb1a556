import {
  BurnrateError,
  bundledSchemaRegistry,
  type CustomerDirectory,
  checkEventTimeliness,
  type DecodedUsageEvent,
  decodeUsageEvent,
  type EnrichedEvent,
  encodeUsageEvent,
  enrichEvent,
  type PriceCatalog,
  type PriceOverrides,
  type UsageEvent,
  validateUsageEvent,
} from '@burnrate/core';
import { buildEvent } from '@burnrate/sdk';

/** What the contract says about one record value. */
export type Verdict =
  | { valid: true; event: UsageEvent; schemaVersion: number }
  | { valid: false; code: string; field: string; message: string }
  /** Not a BurnrateError: a bug in whatever threw it. */
  | { valid: false; untyped: string };

/** Decodes and validates as the enricher does. `decode` is replaceable for the negative control. */
export function classifyAvro(
  bytes: Uint8Array,
  decode: (bytes: Uint8Array) => DecodedUsageEvent = decodeUsageEvent,
): Verdict {
  try {
    const decoded = decode(bytes);
    return { valid: true, event: validateUsageEvent(decoded.event), schemaVersion: decoded.schemaVersion };
  } catch (error) {
    return typedOrNot(error);
  }
}

function typedOrNot(error: unknown): Verdict {
  if (error instanceof BurnrateError) {
    return { valid: false, code: error.code, field: error.field ?? '', message: error.message };
  }
  const e = error as Error;
  return { valid: false, untyped: `${e?.name ?? typeof error}: ${e?.message ?? String(error)}` };
}

export interface Reference {
  prices: PriceCatalog;
  overrides: PriceOverrides;
  customers: CustomerDirectory;
  lateHorizonMs: number;
  maxFutureSkewMs: number;
}

/** Where a fuzz record ends: a fact (with the row the enricher must write) or a dead letter. */
export type Outcome = { fact: EnrichedEvent } | { dead: string; field: string };

/**
 * What the enricher must make of a record, from the pure domain functions alone: the dead-letter
 * reason of a bad record, or the fact priced by enrichEvent. `money_overflow` and other typed
 * failures of pricing are dead letters too (a record must never stop its partition).
 */
export function expectedOutcome(
  verdict: Verdict,
  meta: { topic: string; partition: number; offset: string; timestampMs: number },
  ref: Reference,
): Outcome {
  if (!verdict.valid) {
    if ('untyped' in verdict) return { dead: 'untyped', field: '' };
    return { dead: verdict.code === 'invalid_event' ? 'invalid_value' : verdict.code, field: verdict.field };
  }
  const late = checkEventTimeliness(verdict.event, meta.timestampMs, ref);
  if (late) return { dead: late, field: 'occurred_at' };
  try {
    const fact = enrichEvent(verdict.event, ref, {
      topic: meta.topic,
      partition: meta.partition,
      offset: meta.offset,
      ingestedAtMs: meta.timestampMs,
    });
    return { fact };
  } catch (error) {
    if (!(error instanceof BurnrateError)) return { dead: 'untyped', field: '' };
    return { dead: error.code === 'invalid_event' ? 'invalid_value' : error.code, field: error.field ?? '' };
  }
}

const SCHEMA = bundledSchemaRegistry().latest.type as unknown as {
  fields: Array<{ name: string; type: { fields?: Array<{ name: string }> } }>;
};
const FIELDS = new Set(SCHEMA.fields.map((f) => f.name));
const NESTED: Record<string, Set<string>> = Object.fromEntries(
  SCHEMA.fields.flatMap((f) => (f.type.fields ? [[f.name, new Set(f.type.fields.map((g) => g.name))]] : [])),
);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What POST /v1/events must answer for a body, per docs/api.md. */
export type HttpVerdict =
  /** 200: every event accepted; `events` as the api builds them (event_id may be filled in by it). */
  | { accept: true; events: UsageEvent[]; idGiven: boolean[]; timeGiven: boolean[] }
  /** 4xx for the whole body: too large, not UTF-8, not JSON, no events, too many. */
  | { accept: false; level: 'body'; reason: string }
  /** 422: each event accepted or rejected naming the field; `fields[i]` is null for accepted ones. */
  | {
      accept: false;
      level: 'event';
      fields: Array<string | null>;
      events: Array<UsageEvent | null>;
      timeGiven: boolean[];
    };

/**
 * The contract's answer for a POST /v1/events JSON body, reached without the api's code: strict
 * UTF-8, JSON, the schema's field names (no unknown fields, objects where records are), the client
 * library's buildEvent (defaults + validateUsageEvent), and the codec (the event must encode).
 */
export function classifyJsonBody(
  body: Buffer,
  limits: { maxBodyBytes: number; maxBatchEvents: number; keyId: string },
): HttpVerdict {
  if (body.length > limits.maxBodyBytes) return { accept: false, level: 'body', reason: 'body_too_large' };
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return { accept: false, level: 'body', reason: 'invalid_utf8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { accept: false, level: 'body', reason: 'invalid_json' };
  }
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) return { accept: false, level: 'body', reason: 'no_events' };
  if (items.length > limits.maxBatchEvents)
    return { accept: false, level: 'body', reason: 'batch_too_large' };
  const fields: Array<string | null> = [];
  const events: Array<UsageEvent | null> = [];
  const idGiven: boolean[] = [];
  const timeGiven: boolean[] = [];
  for (const item of items) {
    const given = (key: string) =>
      typeof item === 'object' && item !== null && (item as Record<string, unknown>)[key] != null;
    idGiven.push(given('event_id'));
    timeGiven.push(given('occurred_at'));
    try {
      const input = shaped(item, limits.keyId);
      const event = buildEvent(input as never, { service: 'unknown_service', environment: null });
      encodeUsageEvent(event);
      fields.push(null);
      events.push(event);
    } catch (error) {
      if (!(error instanceof BurnrateError)) throw error;
      fields.push(error.field ?? 'event');
      events.push(null);
    }
  }
  if (fields.every((f) => f === null))
    return { accept: true, events: events as UsageEvent[], idGiven, timeGiven };
  return { accept: false, level: 'event', fields, events, timeGiven };
}

class ShapeError extends BurnrateError {
  constructor(field: string) {
    super('invalid_event', `${field} has the wrong shape`, { field });
  }
}

function shaped(item: unknown, keyId: string): Record<string, unknown> {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new ShapeError('event');
  const e = { ...(item as Record<string, unknown>) };
  for (const key of Object.keys(e)) {
    if (!FIELDS.has(key)) throw new ShapeError(key || 'event');
    const inner = e[key];
    if ((NESTED[key] || key === 'tags') && inner !== undefined && inner !== null) {
      if (typeof inner !== 'object' || Array.isArray(inner)) throw new ShapeError(key);
      const known = NESTED[key];
      if (known) for (const k of Object.keys(inner)) if (!known.has(k)) throw new ShapeError(`${key}.${k}`);
    }
  }
  for (const key of ['tokens', 'units', 'tags']) if (e[key] === null) delete e[key];
  if (typeof e.occurred_at === 'string') {
    const ms = ISO.test(e.occurred_at) ? Date.parse(e.occurred_at) : Number.NaN;
    if (Number.isNaN(ms)) throw new ShapeError('occurred_at');
    e.occurred_at = ms;
  }
  if (e.service === undefined || e.service === null) e.service = keyId;
  return e;
}
