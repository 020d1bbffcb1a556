import {
  compareDecimal,
  decimalFromNumber,
  formatDecimal,
  parseDecimal,
  shiftDecimal,
  ValidationError,
} from '@burnrate/core';
import { describe, expect, it } from 'vitest';

describe('parseDecimal', () => {
  it('reads plain decimals exactly', () => {
    expect(parseDecimal('2.50', 'f')).toEqual({ units: 250n, scale: 2 });
    expect(parseDecimal('0.075', 'f')).toEqual({ units: 75n, scale: 3 });
    expect(parseDecimal('15', 'f')).toEqual({ units: 15n, scale: 0 });
    expect(parseDecimal('0.000000000000000000001', 'f')).toEqual({ units: 1n, scale: 21 });
  });

  it.each(['1e-7', '2.5E-6', '-1', '+1', '.5', '5.', ' 1', '1 ', '', '1,5', '0x10', 'NaN', 'Infinity'])(
    'refuses %j and names the field',
    (text) => {
      const error = (() => {
        try {
          parseDecimal(text, 'entries[0].tokens_per_million.input');
        } catch (e) {
          return e;
        }
      })() as ValidationError;
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.code).toBe('invalid_decimal');
      expect(error.field).toBe('entries[0].tokens_per_million.input');
      expect(error.message).toContain('entries[0].tokens_per_million.input');
    },
  );

  it('refuses numbers: prices in files are strings', () => {
    expect(() => parseDecimal(2.5, 'price')).toThrow(/price must be a plain decimal string/);
  });
});

describe('formatDecimal, shiftDecimal, compareDecimal', () => {
  it('prints the shortest plain form', () => {
    expect(formatDecimal({ units: 250n, scale: 2 })).toBe('2.5');
    expect(formatDecimal({ units: 125n, scale: 9 })).toBe('0.000000125');
    expect(formatDecimal({ units: 1000n, scale: 3 })).toBe('1');
    expect(formatDecimal({ units: 0n, scale: 4 })).toBe('0');
  });

  it('shifts by powers of ten without rounding', () => {
    expect(formatDecimal(shiftDecimal({ units: 125n, scale: 9 }, 6))).toBe('0.125');
    expect(formatDecimal(shiftDecimal({ units: 3n, scale: 0 }, 2))).toBe('300');
    expect(formatDecimal(shiftDecimal({ units: 3n, scale: 0 }, -2))).toBe('0.03');
  });

  it('compares across scales', () => {
    expect(compareDecimal(parseDecimal('1.0', 'a'), parseDecimal('1', 'b'))).toBe(0);
    expect(compareDecimal(parseDecimal('0.99', 'a'), parseDecimal('1', 'b'))).toBe(-1);
    expect(compareDecimal(parseDecimal('1.0000000000000000001', 'a'), parseDecimal('1', 'b'))).toBe(1);
  });
});

describe('decimalFromNumber (LiteLLM per-token costs)', () => {
  const perMillion = (value: number) => formatDecimal(shiftDecimal(decimalFromNumber(value, 'cost'), 6));

  it.each([
    [3e-6, '3'],
    [1.25e-7, '0.125'],
    [0.000015, '15'],
    [2.5e-6, '2.5'],
    [3.75e-6, '3.75'],
    [2.8e-8, '0.028'],
    [1e-5, '10'],
    [0, '0'],
  ])('%s per token is exactly %s per million', (value, expected) => {
    expect(perMillion(value)).toBe(expected);
  });

  it('is exact where multiplying floats is not', () => {
    // The values a naive `cost * 1e6` gets wrong — the reason the importer shifts digits instead.
    expect(2.19e-6 * 1e6).not.toBe(2.19);
    expect(perMillion(2.19e-6)).toBe('2.19');
    expect(8e-7 * 1e6).not.toBe(0.8);
    expect(perMillion(8e-7)).toBe('0.8');
  });

  it('refuses negative and non-finite numbers', () => {
    expect(() => decimalFromNumber(-1e-6, 'x.input_cost_per_token')).toThrow(/x.input_cost_per_token/);
    expect(() => decimalFromNumber(Number.NaN, 'x')).toThrow(ValidationError);
    expect(() => decimalFromNumber('1e-6', 'x')).toThrow(ValidationError);
  });
});
