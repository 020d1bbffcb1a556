import { bundledSchemaRegistry, ValidationError } from '@burnrate/core';
import type { EmitInput } from '@burnrate/sdk';
import { HttpError } from './http.js';

/**
 * The fields an event sent over HTTP may have, and those of its nested records (tokens, units): the
 * latest bundled Avro schema's — the contract itself, so a field added to it is accepted here too.
 */
const SCHEMA = bundledSchemaRegistry().latest.type as unknown as {
  fields: Array<{ name: string; type: { fields?: Array<{ name: string }> } }>;
};
const FIELDS: ReadonlySet<string> = new Set(SCHEMA.fields.map((f) => f.name));
const NESTED: Record<string, ReadonlySet<string>> = Object.fromEntries(
  SCHEMA.fields.flatMap((f) => (f.type.fields ? [[f.name, new Set(f.type.fields.map((g) => g.name))]] : [])),
);
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** One item of a request: an event to check, or a line that did not parse. */
export type RawItem = { value: unknown } | { error: ValidationError };

/**
 * The events of a POST /v1/events body: one JSON object, a JSON array of them, or NDJSON (one per
 * line; a line that does not parse is rejected alone, the others go on).
 */
export function parseEventsBody(text: string, type: 'json' | 'ndjson'): RawItem[] {
  if (type === 'ndjson') {
    const lines = text.split('\n');
    if (lines.at(-1)?.trim() === '') lines.pop();
    return lines.map((line, i) => {
      try {
        return { value: JSON.parse(line) as unknown };
      } catch (error) {
        return {
          error: new ValidationError('event', `Line ${i + 1} is not one JSON object: ${jsonMessage(error)}.`),
        };
      }
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'invalid_json', `The body is not valid JSON: ${jsonMessage(error)}.`);
  }
  return (Array.isArray(value) ? value : [value]).map((v) => ({ value: v }));
}

function jsonMessage(error: unknown): string {
  // Deeply nested input overflows the parser's stack: say what it is, not "Maximum call stack".
  return error instanceof RangeError ? 'nested too deeply' : (error as Error).message.replace(/\.$/, '');
}

/**
 * Checks the shape the client library's types enforce at compile time — no unknown fields (a typo
 * such as `customer_id` must not pass silently), objects where objects belong — and converts an
 * ISO-8601 `occurred_at` to epoch milliseconds. Values are checked by buildEvent(), as in emit().
 * @throws ValidationError naming the field.
 */
export function checkEventShape(value: unknown): EmitInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('event', 'Each event must be a JSON object.');
  }
  const e = value as Record<string, unknown>;
  for (const key of Object.keys(e)) {
    if (!FIELDS.has(key)) {
      if (key === '') {
        // An empty name would be an empty `field` in the answer, which names nothing.
        throw new ValidationError(
          'event',
          'The event has a field with an empty name (see docs/event-contract.md).',
        );
      }
      throw new ValidationError(key, `${key} is not a field of a usage event (see docs/event-contract.md).`);
    }
    const nested = NESTED[key];
    const inner = e[key];
    if (nested || key === 'tags') {
      if (inner === undefined || inner === null) continue;
      if (typeof inner !== 'object' || Array.isArray(inner)) {
        throw new ValidationError(key, `${key} must be an object.`);
      }
      if (nested) {
        for (const k of Object.keys(inner)) {
          if (!nested.has(k)) {
            throw new ValidationError(
              `${key}.${k}`,
              `${key}.${k} is not a field of ${key} (known: ${[...nested].join(', ')}).`,
            );
          }
        }
      }
    }
  }
  if (e.tokens === null) delete e.tokens;
  if (e.units === null) delete e.units;
  if (e.tags === null) delete e.tags;
  if (typeof e.occurred_at === 'string') {
    const ms = ISO_INSTANT.test(e.occurred_at) ? Date.parse(e.occurred_at) : Number.NaN;
    if (Number.isNaN(ms)) {
      throw new ValidationError(
        'occurred_at',
        'occurred_at must be epoch milliseconds or an ISO-8601 instant with a zone, e.g. 2026-12-04T10:00:00Z.',
      );
    }
    e.occurred_at = ms;
  }
  return e as unknown as EmitInput;
}
