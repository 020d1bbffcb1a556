import { ValidationError } from '../errors.js';
import { customerRecordToJson, parseCustomerRecord } from './record.js';
import type { CustomerTable } from './table.js';
import type { CustomerRecord } from './types.js';

/** Bumped when the value's shape changes incompatibly; readers reject versions they do not know. */
export const CUSTOMER_MESSAGE_VERSION = 1;

/**
 * A decoded message of the compacted `customers` topic: a record version to upsert, or a tombstone
 * (null value) that deletes the version named by the key.
 */
export type CustomerMessage =
  | { kind: 'upsert'; record: CustomerRecord }
  | { kind: 'delete'; customer_ref: string; valid_from: string };

const CODE = 'invalid_customer_message';
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The message key: `<customer_ref>@<valid_from>`. Compaction keeps the last message per key, so
 * keying by the version (not just the ref) keeps a customer's whole plan history on the topic —
 * a ref-only key would compact older plans away and break re-pricing of old events.
 */
export function customerMessageKey(customerRef: string, validFrom: string): string {
  return `${customerRef}@${validFrom}`;
}

export function encodeCustomerMessage(record: CustomerRecord): { key: string; value: string } {
  return {
    key: customerMessageKey(record.customer_ref, record.valid_from),
    value: JSON.stringify({ v: CUSTOMER_MESSAGE_VERSION, record: customerRecordToJson(record) }),
  };
}

/** The tombstone that deletes one record version. */
export function customerTombstone(customerRef: string, validFrom: string): { key: string; value: null } {
  return { key: customerMessageKey(customerRef, validFrom), value: null };
}

function text(bytes: string | Uint8Array, field: string): string {
  if (typeof bytes === 'string') return bytes;
  try {
    return decoder.decode(bytes);
  } catch {
    throw new ValidationError(field, `Customer message ${field} is not valid UTF-8.`, CODE);
  }
}

/**
 * Decodes a message of the customers topic.
 * @throws ValidationError (code `invalid_customer_message` or `invalid_customer`) naming the field.
 */
export function decodeCustomerMessage(
  key: string | Uint8Array | null,
  value: string | Uint8Array | null,
): CustomerMessage {
  if (key === null) throw new ValidationError('key', 'Customer message key is missing.', CODE);
  const keyText = text(key, 'key');
  if (value === null) {
    const at = keyText.lastIndexOf('@');
    if (at <= 0)
      throw new ValidationError(
        'key',
        `Customer message key must be "<customer_ref>@<valid_from>", got "${keyText}".`,
        CODE,
      );
    return { kind: 'delete', customer_ref: keyText.slice(0, at), valid_from: keyText.slice(at + 1) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text(value, 'value'));
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError('value', 'Customer message value is not valid JSON.', CODE);
  }
  const envelope = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as {
    v?: unknown;
    record?: unknown;
  };
  if (envelope.v !== CUSTOMER_MESSAGE_VERSION) {
    throw new ValidationError(
      'v',
      `Customer message version must be ${CUSTOMER_MESSAGE_VERSION}, got ${JSON.stringify(envelope.v)}.`,
      CODE,
    );
  }
  const record = parseCustomerRecord(envelope.record, { where: 'Customer message record' });
  const expected = customerMessageKey(record.customer_ref, record.valid_from);
  if (keyText !== expected) {
    throw new ValidationError(
      'key',
      `Customer message key "${keyText}" does not match its record ("${expected}").`,
      CODE,
    );
  }
  return { kind: 'upsert', record };
}

/** Applies a decoded message to a table, the way the reference-data consumer does. */
export function applyCustomerMessage(table: CustomerTable, message: CustomerMessage): void {
  if (message.kind === 'upsert') table.upsert(message.record);
  else table.remove(message.customer_ref, message.valid_from);
}
