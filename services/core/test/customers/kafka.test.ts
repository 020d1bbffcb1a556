import {
  applyCustomerMessage,
  CustomerTable,
  customerTombstone,
  decodeCustomerMessage,
  encodeCustomerMessage,
  ValidationError,
} from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { makeCustomerRecord } from '../fixtures/reference-data.js';

describe('customer messages', () => {
  const record = makeCustomerRecord({
    plan: { kind: 'enterprise', revenue_nanos: 90_071_992_547_409_930n, currency: 'USD', period: 'month' },
  });

  it('round-trips a record, BigInt amounts included', () => {
    const { key, value } = encodeCustomerMessage(record);
    expect(key).toBe('acme@2025-01-01T00:00:00.000Z');
    expect(JSON.parse(value)).toMatchObject({
      v: 1,
      record: { plan: { revenue_nanos: '90071992547409930' } },
    });
    expect(decodeCustomerMessage(key, value)).toEqual({ kind: 'upsert', record });
    expect(decodeCustomerMessage(Buffer.from(key), Buffer.from(value))).toEqual({ kind: 'upsert', record });
  });

  it('round-trips a record without name, team or budget (parsed defaults)', () => {
    const bare = makeCustomerRecord({ name: '', team: '', monthly_budget_nanos: null });
    const { key, value } = encodeCustomerMessage(bare);
    expect(decodeCustomerMessage(key, value)).toEqual({ kind: 'upsert', record: bare });
  });

  it('turns a tombstone into a delete of that version', () => {
    const { key, value } = customerTombstone('team@acme', '2025-01-01T00:00:00.000Z');
    expect(decodeCustomerMessage(key, value)).toEqual({
      kind: 'delete',
      customer_ref: 'team@acme',
      valid_from: '2025-01-01T00:00:00.000Z',
    });
  });

  it('rebuilds the table by replaying upserts and tombstones', () => {
    const later = makeCustomerRecord({ valid_from: '2025-06-01T00:00:00.000Z', team: 'new' });
    const messages = [
      encodeCustomerMessage(record),
      encodeCustomerMessage(later),
      customerTombstone('acme', later.valid_from),
    ];
    const table = new CustomerTable();
    for (const message of messages)
      applyCustomerMessage(table, decodeCustomerMessage(message.key, message.value));
    expect(table.size).toBe(1);
    expect(table.lookup('acme', Date.parse('2025-07-01T00:00:00Z')).team).toBe('enterprise-sales');
  });

  it.each([
    ['an unknown version', 'acme@2025-01-01T00:00:00.000Z', JSON.stringify({ v: 2, record: {} }), 'v'],
    ['a key that does not match the record', 'acme', encodeCustomerMessage(record).value, 'key'],
    ['a value that is not JSON', 'acme@x', '{', 'value'],
    ['a missing key', null, '{}', 'key'],
    ['a tombstone key without a version', 'acme', null, 'key'],
    ['invalid UTF-8', 'acme@x', new Uint8Array([0xff, 0xfe]), 'value'],
  ])('rejects %s', (_name, key, value, field) => {
    try {
      decodeCustomerMessage(key, value);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
    }
  });
});
