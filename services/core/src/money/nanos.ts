import { BurnrateError, ValidationError } from '../errors.js';
import { type Decimal, describeValue, parseDecimal, pow10 } from './decimal.js';
import { divRoundHalfEven } from './rounding.js';

/** Money in burnrate is an integer count of nano-USD (1e-9 USD). */
export const NANOS_PER_USD = 1_000_000_000n;
const NANO_DIGITS = 9;

/**
 * Converts an exact decimal amount of USD to nano-USD.
 * @throws ValidationError (code `invalid_money`) when the amount has more than 9 decimals, because
 * that would need rounding and amounts (unlike per-token prices) must be representable as given.
 */
export function decimalToNanos(value: Decimal, field: string): bigint {
  if (value.scale <= NANO_DIGITS) return value.units * pow10(NANO_DIGITS - value.scale);
  const divisor = pow10(value.scale - NANO_DIGITS);
  if (value.units % divisor !== 0n) {
    throw new ValidationError(
      field,
      `${field} has more than 9 decimals, finer than a nano-USD.`,
      'invalid_money',
    );
  }
  return value.units / divisor;
}

/** Parses a USD amount such as "200.00" into nano-USD, exactly. */
export function usdToNanos(text: unknown, field: string): bigint {
  return decimalToNanos(parseDecimal(text, field), field);
}

/**
 * Formats nano-USD as a USD decimal string with at least `minDecimals` and at most 9 decimals and no
 * trailing zeros beyond the minimum: 2_500_000_000 → "2.50", 1 → "0.000000001", -500_000_000 → "-0.50".
 */
export function formatNanosAsUsd(nanos: bigint | number, minDecimals = 2): string {
  if (typeof nanos === 'number' && !Number.isSafeInteger(nanos)) {
    throw new ValidationError(
      'nanos',
      `nanos must be a safe integer, got ${describeValue(nanos)}.`,
      'invalid_money',
    );
  }
  const value = BigInt(nanos);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(NANO_DIGITS + 1, '0');
  let fraction = digits.slice(-NANO_DIGITS);
  const keep = Math.min(Math.max(minDecimals, 0), NANO_DIGITS);
  while (fraction.length > keep && fraction.endsWith('0')) fraction = fraction.slice(0, -1);
  const whole = digits.slice(0, -NANO_DIGITS);
  return `${negative ? '-' : ''}${whole}${fraction.length > 0 ? `.${fraction}` : ''}`;
}

/**
 * Narrows a BigInt amount to a JS number for rows and JSON, refusing rather than losing precision.
 * @throws BurnrateError (code `money_overflow`) above Number.MAX_SAFE_INTEGER (about 9 million USD).
 */
export function toSafeNanos(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new BurnrateError('money_overflow', `${field} of ${value} nano-USD does not fit a safe integer.`, {
      field,
    });
  }
  return Number(value);
}

/**
 * Nano-USD rounded half-to-even to whole cents, for people: 76_370_329_435 → "76.37". Exact amounts
 * stay in nano-USD wherever a program reads them.
 */
export function formatUsdCents(nanos: bigint | number): string {
  const cents = divRoundHalfEven(BigInt(nanos), 10_000_000n);
  const negative = cents < 0n;
  const digits = (negative ? -cents : cents).toString().padStart(3, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}
