import { CustomerTable, parseCustomerRecord, ValidationError } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { makeCustomerRecord } from '../fixtures/reference-data.js';

const at = (iso: string) => Date.parse(iso);

describe('CustomerTable', () => {
  it('finds the record in force at the event time', () => {
    const table = CustomerTable.from([
      makeCustomerRecord({ valid_from: '2025-01-01T00:00:00.000Z', valid_to: '2025-06-01T00:00:00.000Z' }),
      makeCustomerRecord({
        valid_from: '2025-06-01T00:00:00.000Z',
        plan: {
          kind: 'enterprise',
          revenue_nanos: 10_000_000_000_000_000n,
          currency: 'EUR',
          period: 'month',
        },
      }),
    ]);
    expect(table.lookup('acme', at('2025-05-31T23:59:59.999Z'))).toMatchObject({
      unmapped: false,
      plan: { kind: 'flat_rate' },
    });
    expect(table.lookup('acme', at('2025-06-01T00:00:00Z'))).toMatchObject({
      unmapped: false,
      customer_id: 'cus_acme',
      plan: { kind: 'enterprise', revenue_nanos: 10_000_000_000_000_000n },
    });
  });

  it('attributes unknown refs, and times outside every window, to unmapped:<ref>', () => {
    const table = CustomerTable.from([makeCustomerRecord({ valid_from: '2025-01-01T00:00:00.000Z' })]);
    expect(table.lookup('globex', at('2025-03-01T00:00:00Z'))).toEqual({
      unmapped: true,
      customer_ref: 'globex',
      customer_id: 'unmapped:globex',
      name: '',
      team: '',
      plan: null,
      monthly_budget_nanos: null,
      billing_anchor_day: null,
      valid_from: null,
      valid_to: null,
    });
    expect(table.lookup('acme', at('2024-12-31T23:59:59Z'))).toMatchObject({
      unmapped: true,
      customer_id: 'unmapped:acme',
    });
  });

  it('lets the later-starting record win where windows overlap', () => {
    const table = CustomerTable.from([
      makeCustomerRecord({ valid_from: '2025-01-01T00:00:00.000Z' }),
      makeCustomerRecord({
        valid_from: '2025-06-01T00:00:00.000Z',
        valid_to: '2025-07-01T00:00:00.000Z',
        team: 'pilot',
      }),
    ]);
    expect(table.lookup('acme', at('2025-05-01T00:00:00Z')).team).toBe('enterprise-sales');
    expect(table.lookup('acme', at('2025-06-15T00:00:00Z')).team).toBe('pilot');
    expect(table.lookup('acme', at('2025-08-01T00:00:00Z')).team).toBe('enterprise-sales');
  });

  it('replaces a record with the same ref and valid_from on upsert', () => {
    const table = CustomerTable.from([makeCustomerRecord({ name: 'Acme' })]);
    table.upsert(makeCustomerRecord({ name: 'Acme Corporation' }));
    expect(table.size).toBe(1);
    expect(table.lookup('acme', at('2025-03-01T00:00:00Z')).name).toBe('Acme Corporation');
  });

  it('removes one version and keeps the others', () => {
    const table = CustomerTable.from([
      makeCustomerRecord({ valid_from: '2025-01-01T00:00:00.000Z' }),
      makeCustomerRecord({ valid_from: '2025-06-01T00:00:00.000Z', team: 'new' }),
    ]);
    expect(table.remove('acme', '2025-06-01')).toBe(true);
    expect(table.remove('acme', '2025-06-01')).toBe(false);
    expect(table.lookup('acme', at('2025-07-01T00:00:00Z')).team).toBe('enterprise-sales');
    expect([...table.records()]).toHaveLength(1);
  });

  it('maps several refs to one customer', () => {
    const table = CustomerTable.from([makeCustomerRecord(), makeCustomerRecord({ customer_ref: 'acme-eu' })]);
    expect(table.lookup('acme-eu', at('2025-03-01T00:00:00Z')).customer_id).toBe('cus_acme');
  });
});

describe('parseCustomerRecord', () => {
  it('defaults optional fields and canonicalizes instants', () => {
    const record = parseCustomerRecord({
      customer_ref: 'acme',
      customer_id: 'cus_acme',
      plan: { kind: 'usage_based', currency: 'USD' },
      valid_from: '2025-06-01',
    });
    expect(record).toEqual({
      customer_ref: 'acme',
      customer_id: 'cus_acme',
      name: '',
      team: '',
      plan: { kind: 'usage_based', revenue_nanos: 0n, currency: 'USD', period: 'month' },
      monthly_budget_nanos: null,
      billing_anchor_day: 1,
      valid_from: '2025-06-01T00:00:00.000Z',
      valid_to: null,
    });
  });

  it.each([
    [{ billing_anchor_day: 29 }, 'billing_anchor_day'],
    [{ plan: { kind: 'gold', currency: 'USD' } }, 'plan.kind'],
    [{ plan: { kind: 'flat_rate', currency: 'usd' } }, 'plan.currency'],
    [{ plan: { kind: 'flat_rate', currency: 'USD', revenue_nanos: 1.5 } }, 'plan.revenue_nanos'],
    [{ plan: { kind: 'flat_rate', currency: 'USD', period: 'year' } }, 'plan.period'],
    [{ monthly_budget_nanos: '-5' }, 'monthly_budget_nanos'],
    [{ valid_from: '2025-06-01', valid_to: '2025-01-01' }, 'valid_to'],
    [{ customer_id: '' }, 'customer_id'],
    [{ plan_kind: 'flat_rate' }, 'plan_kind'],
  ])('rejects %j naming %s', (patch, field) => {
    const value = {
      customer_ref: 'acme',
      customer_id: 'cus_acme',
      plan: { kind: 'flat_rate', currency: 'USD' },
      ...patch,
    };
    try {
      parseCustomerRecord(value);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
      expect((error as ValidationError).message).toContain(field);
    }
  });
});
