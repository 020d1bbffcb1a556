import { CustomerImportError, parseCustomerImport } from '@burnrate/core';
import { describe, expect, it } from 'vitest';

function importError(text: string, format: 'jsonl' | 'csv'): CustomerImportError {
  try {
    parseCustomerImport(text, format);
  } catch (error) {
    expect(error).toBeInstanceOf(CustomerImportError);
    return error as CustomerImportError;
  }
  throw new Error('expected a CustomerImportError');
}

describe('parseCustomerImport: JSON lines', () => {
  const line = (patch: Record<string, unknown> = {}) =>
    JSON.stringify({
      customer_ref: 'acme',
      customer_id: 'cus_acme',
      plan: { kind: 'flat_rate', currency: 'USD' },
      ...patch,
    });

  it('reads one record per line and skips blank lines', () => {
    const records = parseCustomerImport(
      `${line({ plan: { kind: 'enterprise', currency: 'USD', revenue_nanos: '12345678901234567890' } })}\n\n${line({ customer_ref: 'b' })}\r\n`,
      'jsonl',
    );
    expect(records.map((record) => record.customer_ref)).toEqual(['acme', 'b']);
    expect(records[0]!.plan.revenue_nanos).toBe(12_345_678_901_234_567_890n);
  });

  it('names the line and field of a bad value', () => {
    const error = importError(`${line()}\n${line()}\n${line({ billing_anchor_day: 31 })}`, 'jsonl');
    expect(error.line).toBe(3);
    expect(error.field).toBe('billing_anchor_day');
    expect(error.message).toMatch(/^Line 3: billing_anchor_day must be an integer from 1 to 28/);
  });

  it('names the line of broken JSON', () => {
    const error = importError(`${line()}\n{"customer_ref": `, 'jsonl');
    expect(error.line).toBe(2);
    expect(error.message).toContain('Line 2');
  });
});

describe('parseCustomerImport: CSV', () => {
  const header =
    'customer_ref,customer_id,name,team,plan_kind,plan_revenue_nanos,plan_currency,monthly_budget_nanos,billing_anchor_day,valid_from,valid_to';

  it('reads quoted cells, CRLF line ends and a byte-order mark', () => {
    const text = `\uFEFF${header}\r\nacme,cus_acme,"Acme, Inc. ""the best""",sales,flat_rate,200000000000,USD,50000000000,15,2025-01-01,2025-06-01\r\nglobex,cus_globex,"Globex\nCorp",,usage_based,,EUR,,,,\r\n`;
    const records = parseCustomerImport(text, 'csv');
    expect(records).toEqual([
      {
        customer_ref: 'acme',
        customer_id: 'cus_acme',
        name: 'Acme, Inc. "the best"',
        team: 'sales',
        plan: { kind: 'flat_rate', revenue_nanos: 200_000_000_000n, currency: 'USD', period: 'month' },
        monthly_budget_nanos: 50_000_000_000n,
        billing_anchor_day: 15,
        valid_from: '2025-01-01T00:00:00.000Z',
        valid_to: '2025-06-01T00:00:00.000Z',
      },
      {
        customer_ref: 'globex',
        customer_id: 'cus_globex',
        name: 'Globex\nCorp',
        team: '',
        plan: { kind: 'usage_based', revenue_nanos: 0n, currency: 'EUR', period: 'month' },
        monthly_budget_nanos: null,
        billing_anchor_day: 1,
        valid_from: '1970-01-01T00:00:00.000Z',
        valid_to: null,
      },
    ]);
  });

  it('names the line and the CSV column of a bad value', () => {
    // The quoted name spans lines 2–3, so the bad row starts on line 4.
    const text = `${header}\nacme,cus_acme,"Acme\nInc",,flat_rate,,USD,,,,\nb,cus_b,B,,gold,,USD,,,,\n`;
    const error = importError(text, 'csv');
    expect(error.line).toBe(4);
    expect(error.field).toBe('plan_kind');
    expect(error.message).toMatch(
      /^Line 4: plan_kind must be one of flat_rate, usage_based, enterprise, got "gold"/,
    );
  });

  it('rejects unknown columns, short rows and broken quoting', () => {
    expect(importError('customer_ref,customer_id,plan_tier\n', 'csv').field).toBe('plan_tier');
    expect(importError(`${header}\nacme,cus_acme\n`, 'csv').line).toBe(2);
    expect(importError(`${header}\n"acme,cus_acme\n`, 'csv').message).toMatch(/not closed/);
  });

  it('reads an empty file as no records', () => {
    expect(parseCustomerImport('', 'csv')).toEqual([]);
    expect(parseCustomerImport('\n', 'jsonl')).toEqual([]);
  });
});
