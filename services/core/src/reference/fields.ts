import { ValidationError } from '../errors.js';
import { describeValue, parseDecimal } from '../money/decimal.js';
import { type EffectiveWindow, instantMs } from './effective.js';

/**
 * Reads one object of a reference-data file (a price entry, an override, a customer record) with
 * errors that name both the object (`where`, e.g. `Price entry "openai/gpt-4o"` or `Line 3`) and
 * the field at fault. Unknown keys are rejected: a typo such as "cached_inptu" must not silently
 * fall back to another rate.
 */
export class Fields {
  private constructor(
    private readonly value: Record<string, unknown>,
    private readonly where: string,
    private readonly prefix: string,
    private readonly code: string,
    private readonly separator: string,
  ) {}

  /**
   * @param path the object's own path (e.g. `entries[3]`), prepended to field names in `error.field`.
   * @param separator joins nested names: '.' for JSON paths, '_' where a CSV column is `plan_kind`.
   */
  static of(value: unknown, where: string, path: string, code: string, separator = '.'): Fields {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ValidationError(
        path || 'record',
        `${where} must be a JSON object, got ${describeValue(value)}.`,
        code,
      );
    }
    return new Fields(
      value as Record<string, unknown>,
      where,
      path ? `${path}${separator}` : '',
      code,
      separator,
    );
  }

  /** The field's full name as shown in errors. */
  name(key: string): string {
    return `${this.prefix}${key}`;
  }

  fail(key: string, problem: string): never {
    throw new ValidationError(this.name(key), `${this.where}: ${this.name(key)} ${problem}.`, this.code);
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  raw(key: string): unknown {
    return this.value[key];
  }

  onlyKeys(allowed: readonly string[]): void {
    for (const key of Object.keys(this.value)) {
      if (!allowed.includes(key))
        this.fail(key, `is not a known field (expected one of ${allowed.join(', ')})`);
    }
  }

  string(key: string): string {
    const value = this.value[key];
    if (typeof value !== 'string' || value.trim() === '')
      this.fail(key, `must be a non-empty string, got ${describeValue(value)}`);
    return value;
  }

  optionalString(key: string): string | null {
    return this.has(key) ? this.string(key) : null;
  }

  stringList(key: string): string[] {
    if (!this.has(key)) return [];
    const value = this.value[key];
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
      this.fail(key, `must be a list of non-empty strings, got ${describeValue(value)}`);
    }
    return [...value];
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const value = this.value[key];
    if (!allowed.includes(value as T))
      this.fail(key, `must be one of ${allowed.join(', ')}, got ${describeValue(value)}`);
    return value as T;
  }

  integer(key: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.value[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      this.fail(key, `must be an integer from ${min} to ${max}, got ${describeValue(value)}`);
    }
    return value;
  }

  /** A plain decimal string, returned as written after checking it parses. */
  decimal(key: string): string {
    const value = this.value[key];
    try {
      parseDecimal(value, this.name(key));
    } catch {
      this.fail(
        key,
        `must be a plain decimal string such as "2.50" (no exponent, sign or spaces), got ${describeValue(value)}`,
      );
    }
    return value as string;
  }

  optionalDecimal(key: string): string | undefined {
    return this.has(key) ? this.decimal(key) : undefined;
  }

  /** A non-negative integer amount of nano-units, as a JSON safe integer or an integer string. */
  nanos(key: string): bigint {
    const value = this.value[key];
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
    if (typeof value === 'string' && /^\d{1,30}$/.test(value)) return BigInt(value);
    return this.fail(
      key,
      `must be a non-negative integer (a string when above 2^53), got ${describeValue(value)}`,
    );
  }

  nested(key: string): Fields {
    const value = this.value[key];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(key, `must be a JSON object, got ${describeValue(value)}`);
    }
    return new Fields(
      value as Record<string, unknown>,
      this.where,
      this.name(key) + this.separator,
      this.code,
      this.separator,
    );
  }

  list(key: string): unknown[] {
    if (!this.has(key)) return [];
    const value = this.value[key];
    if (!Array.isArray(value)) this.fail(key, `must be a list, got ${describeValue(value)}`);
    return value;
  }

  /** An ISO-8601 date or zoned date-time, as epoch milliseconds. */
  instant(key: string): number {
    const ms = instantMs(this.value[key]);
    if (ms === undefined) {
      this.fail(
        key,
        `must be an ISO-8601 date or a date-time with a zone such as "2025-06-01T00:00:00Z", got ${describeValue(this.value[key])}`,
      );
    }
    return ms;
  }

  /** `valid_from` (required unless a default is given) and `valid_to` (absent or null: open-ended). */
  window(defaultFromMs?: number): EffectiveWindow {
    const fromMs =
      defaultFromMs !== undefined && !this.has('valid_from') ? defaultFromMs : this.instant('valid_from');
    const toMs = this.has('valid_to') ? this.instant('valid_to') : Number.POSITIVE_INFINITY;
    if (toMs <= fromMs) this.fail('valid_to', 'must be later than valid_from');
    return { fromMs, toMs };
  }
}
