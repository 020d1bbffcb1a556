import { ValidationError } from '../errors.js';
import { EVENT_STATUSES, STEP_KINDS, type UsageEvent } from './usage-event.js';

/** Longest identifier or name (service, customer_ref, model, step_id, ...), in UTF-16 code units. */
export const MAX_ID_LENGTH = 256;
/** Most tags one event may carry. */
export const MAX_TAGS = 32;
/** Longest tag key, in UTF-16 code units. */
export const MAX_TAG_KEY_LENGTH = 64;
/** Longest tag value, in UTF-16 code units. */
export const MAX_TAG_VALUE_LENGTH = 256;
/**
 * Largest count one token bucket may hold. The longest context windows are a few million tokens;
 * a billion in one call is a unit or overflow bug upstream, and pricing it would book absurd costs.
 */
export const MAX_TOKENS_PER_BUCKET = 1_000_000_000;
/** occurred_at must be at or after 2000-01-01T00:00:00Z: anything earlier is usually seconds, not ms. */
export const MIN_OCCURRED_AT_MS = Date.UTC(2000, 0, 1);
/** occurred_at must be before 2100-01-01T00:00:00Z: anything later is usually microseconds, not ms. */
export const MAX_OCCURRED_AT_MS = Date.UTC(2100, 0, 1);

/**
 * Largest value of a long field (counts, milliseconds, nano-USD). Avro longs are 64-bit, but events
 * are JavaScript numbers: the codec reads and writes exactly up to 2^53 − 2 and refuses beyond, so
 * the validator does too (an event that passes must also encode).
 */
export const MAX_LONG = Number.MAX_SAFE_INTEGER - 1;

/**
 * Largest depth and attempt. Avro carries them as 32-bit ints, but the fact table stores UInt16:
 * a larger value would be stored wrapped (65,536 as 0), so it is refused here, naming the field.
 */
export const MAX_DEPTH = 65_535;
export const MAX_ATTEMPT = 65_535;
/** Largest requests, images and web_search_calls: the fact table stores them as UInt32. */
export const MAX_UINT32 = 4_294_967_295;
// Lower case only: the id is an idempotency key, and two spellings of one UUID must not be two keys.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STEP_KIND_SET: ReadonlySet<string> = new Set(STEP_KINDS);
const STATUS_SET: ReadonlySet<string> = new Set(EVENT_STATUSES);
const TOKEN_BUCKETS = ['input', 'cached_input', 'cache_write', 'output', 'reasoning'] as const;
const UNITS = ['images', 'audio_ms', 'web_search_calls'] as const;
const OPTIONAL_IDS = [
  'user_ref',
  'workflow',
  'workflow_run_id',
  'step_id',
  'parent_step_id',
  'feature',
] as const;
const ADDED_IDS = ['environment', 'request_id'] as const;

/**
 * Checks the rules the Avro schema cannot express and returns the input, typed. Synchronous and
 * allocation-free on success, so clients can afford it on every event. Fields of later schema
 * versions (environment, request_id) may be absent; every v1 field must be present, null where
 * nullable. Unknown extra properties are ignored, as the encoder ignores them.
 *
 * @throws ValidationError whose `field` is the first offending field (dotted for nested ones).
 */
export function validateUsageEvent(input: unknown): UsageEvent {
  if (!isObject(input)) throw new ValidationError('event', 'The event must be an object.');
  const e = input;

  const eventId = e.event_id;
  if (typeof eventId !== 'string' || !UUID.test(eventId)) {
    throw new ValidationError('event_id', 'event_id must be a lower-case UUID such as newEventId() returns.');
  }
  const occurredAt = e.occurred_at;
  if (!Number.isInteger(occurredAt)) {
    throw new ValidationError('occurred_at', 'occurred_at must be an integer count of epoch milliseconds.');
  }
  if ((occurredAt as number) < MIN_OCCURRED_AT_MS || (occurredAt as number) >= MAX_OCCURRED_AT_MS) {
    throw new ValidationError(
      'occurred_at',
      `occurred_at ${occurredAt} is not between 2000 and 2100 in epoch milliseconds (seconds or microseconds given?).`,
    );
  }
  requiredId(e, 'service');
  requiredId(e, 'customer_ref');
  requiredId(e, 'provider');
  requiredId(e, 'model');
  for (const field of OPTIONAL_IDS) optionalId(e, field, false);
  for (const field of ADDED_IDS) optionalId(e, field, true);

  if (!STEP_KIND_SET.has(e.step_kind as string)) {
    throw new ValidationError('step_kind', `step_kind must be one of ${STEP_KINDS.join(', ')}.`);
  }
  if (!STATUS_SET.has(e.status as string)) {
    throw new ValidationError('status', `status must be one of ${EVENT_STATUSES.join(', ')}.`);
  }
  count(e.depth, 'depth', 0, MAX_DEPTH);
  count(e.attempt, 'attempt', 1, MAX_ATTEMPT);
  count(e.requests, 'requests', 0, MAX_UINT32);

  const tokens = e.tokens;
  if (!isObject(tokens)) throw new ValidationError('tokens', 'tokens must be an object of token buckets.');
  for (const bucket of TOKEN_BUCKETS) {
    const value = tokens[bucket];
    count(value, `tokens.${bucket}`, 0, MAX_LONG);
    if ((value as number) > MAX_TOKENS_PER_BUCKET) {
      throw new ValidationError(
        `tokens.${bucket}`,
        `tokens.${bucket} is ${value}, above the sanity bound of ${MAX_TOKENS_PER_BUCKET} tokens per call.`,
      );
    }
  }
  const units = e.units;
  if (!isObject(units)) throw new ValidationError('units', 'units must be an object of billable units.');
  for (const unit of UNITS) {
    count(units[unit], `units.${unit}`, 0, unit === 'audio_ms' ? MAX_LONG : MAX_UINT32);
  }

  if (e.latency_ms !== null) count(e.latency_ms, 'latency_ms', 0, MAX_LONG, true);
  const cost = e.provider_reported_cost_nanos;
  if (cost !== null) count(cost, 'provider_reported_cost_nanos', 0, MAX_LONG, true);
  const quality = e.quality_score;
  if (quality !== null && !(typeof quality === 'number' && quality >= 0 && quality <= 1)) {
    throw new ValidationError('quality_score', 'quality_score must be null or a number from 0 to 1.');
  }
  checkTags(e.tags);
  return input as unknown as UsageEvent;
}

function checkTags(tags: unknown): void {
  if (!isObject(tags)) throw new ValidationError('tags', 'tags must be an object of string values.');
  let n = 0;
  for (const key in tags) {
    if (!Object.hasOwn(tags, key)) continue;
    if (++n > MAX_TAGS) throw new ValidationError('tags', `tags must hold at most ${MAX_TAGS} entries.`);
    if (key.length === 0 || key.length > MAX_TAG_KEY_LENGTH || !wellFormed(key)) {
      throw new ValidationError(
        'tags',
        `Every tag key must have 1 to ${MAX_TAG_KEY_LENGTH} characters of well-formed Unicode.`,
      );
    }
    if (key === '__proto__') {
      // A JavaScript reader that assigns it sets the object's prototype instead: the tag would vanish.
      throw new ValidationError(
        'tags.__proto__',
        'The tag key __proto__ is reserved; name the tag otherwise.',
      );
    }
    const value = tags[key];
    if (typeof value !== 'string' || value.length > MAX_TAG_VALUE_LENGTH || !wellFormed(value)) {
      throw new ValidationError(
        `tags.${key}`,
        `tags.${key} must be a string of at most ${MAX_TAG_VALUE_LENGTH} characters of well-formed Unicode.`,
      );
    }
  }
}

function requiredId(e: Record<string, unknown>, field: string): void {
  const value = e[field];
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH || !wellFormed(value)) {
    throw new ValidationError(
      field,
      `${field} must be a non-empty string of at most ${MAX_ID_LENGTH} characters of well-formed Unicode.`,
    );
  }
}

function optionalId(e: Record<string, unknown>, field: string, mayBeAbsent: boolean): void {
  const value = e[field];
  if (value === null || (mayBeAbsent && value === undefined)) return;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH || !wellFormed(value)) {
    throw new ValidationError(
      field,
      `${field} must be null or a non-empty string of at most ${MAX_ID_LENGTH} characters of well-formed Unicode.`,
    );
  }
}

/**
 * False for a string with a lone surrogate (JSON allows "\ud800"): it has no UTF-8 form, so the
 * encoder would write U+FFFD and the stored event would differ from the one accepted.
 */
function wellFormed(value: string): boolean {
  return (value as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function count(value: unknown, field: string, min: number, max: number, nullable = false): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const kind =
      max !== MAX_LONG ? `an integer from ${min} to ${max}` : 'a non-negative integer of at most 2^53 - 2';
    throw new ValidationError(field, `${field} must be ${nullable ? 'null or ' : ''}${kind}.`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
