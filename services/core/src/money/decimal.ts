import { ValidationError } from '../errors.js';

/**
 * An exact non-negative decimal number, `units / 10^scale`. Prices are kept in this form from the
 * moment they are read, so no price ever passes through a binary floating-point number.
 */
export interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

// Plain decimals only: an exponent ("1e-7"), a sign, a bare "." or spaces in a price file are far
// more likely a mistake than an intent, and each would need its own rounding story.
const PLAIN_DECIMAL = /^(\d+)(?:\.(\d+))?$/;
// What Number.prototype.toString can print for a finite non-negative number.
const JS_NUMBER = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/;

const POWERS_OF_TEN: bigint[] = [1n];

/** 10^exponent as a BigInt, memoized because cost computation asks for the same few powers. */
export function pow10(exponent: number): bigint {
  if (!Number.isInteger(exponent) || exponent < 0) throw new RangeError(`pow10 needs a natural exponent`);
  for (let k = POWERS_OF_TEN.length; k <= exponent; k++) POWERS_OF_TEN.push(POWERS_OF_TEN[k - 1]! * 10n);
  return POWERS_OF_TEN[exponent]!;
}

/** Shows a bad value in an error message without dumping a whole object. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * Parses a plain decimal string such as "2.50" or "0.075" exactly.
 * @param field names the value in the error, e.g. `entries[3].tokens_per_million.input`.
 * @throws ValidationError (code `invalid_decimal`) for anything else, including "1e-7".
 */
export function parseDecimal(text: unknown, field: string): Decimal {
  const match = typeof text === 'string' ? PLAIN_DECIMAL.exec(text) : null;
  if (!match) {
    throw new ValidationError(
      field,
      `${field} must be a plain decimal string such as "2.50" (no exponent, sign or spaces), got ${describeValue(text)}.`,
      'invalid_decimal',
    );
  }
  const fraction = match[2] ?? '';
  return { units: BigInt(match[1]! + fraction), scale: fraction.length };
}

/** Drops trailing fractional zeros, so equal values have one representation. */
export function normalizeDecimal(value: Decimal): Decimal {
  let { units, scale } = value;
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n;
    scale -= 1;
  }
  return units === 0n ? { units: 0n, scale: 0 } : { units, scale };
}

/** Multiplies by 10^places (negative places divide) without any rounding. */
export function shiftDecimal(value: Decimal, places: number): Decimal {
  const scale = value.scale - places;
  if (scale >= 0) return normalizeDecimal({ units: value.units, scale });
  return { units: value.units * pow10(-scale), scale: 0 };
}

/** Prints the shortest plain decimal string, e.g. `{ units: 250n, scale: 2 }` → "2.5". */
export function formatDecimal(value: Decimal): string {
  const { units, scale } = normalizeDecimal(value);
  if (scale === 0) return units.toString();
  const digits = units.toString().padStart(scale + 1, '0');
  return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** Compares two decimals exactly: negative, zero or positive like a sort comparator. */
export function compareDecimal(a: Decimal, b: Decimal): number {
  const scale = Math.max(a.scale, b.scale);
  const left = a.units * pow10(scale - a.scale);
  const right = b.units * pow10(scale - b.scale);
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * Converts a JSON number (such as LiteLLM's `2.5e-06`) to the decimal its author wrote. The
 * number's shortest round-trip representation (what `String(x)` prints) is read digit by digit;
 * no floating-point arithmetic happens, so 1.25e-7 becomes exactly 0.000000125.
 */
export function decimalFromNumber(value: unknown, field: string): Decimal {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValidationError(
      field,
      `${field} must be a finite non-negative number, got ${describeValue(value)}.`,
      'invalid_decimal',
    );
  }
  const match = JS_NUMBER.exec(String(value));
  if (!match) throw new ValidationError(field, `${field} could not be read as a decimal.`, 'invalid_decimal');
  const fraction = match[2] ?? '';
  const exponent = Number(match[3] ?? '0');
  return shiftDecimal({ units: BigInt(match[1]! + fraction), scale: fraction.length }, exponent);
}
