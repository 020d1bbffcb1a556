import { ValidationError } from '@burnrate/core';

/**
 * An OTLP attribute value after decoding, the same from protobuf and JSON: int64 values are numbers
 * when they are safe integers and bigints otherwise, bytes are Uint8Array, arrays and kvlists nest.
 */
export type AttributeValue = string | number | bigint | boolean | Uint8Array | AttributeValue[] | Attributes;

/** A span's or resource's attributes by key (a key that repeats keeps its last value). */
export type Attributes = ReadonlyMap<string, AttributeValue>;

/** OTLP `Status.StatusCode` ERROR. */
export const STATUS_CODE_ERROR = 2;

/** One span of an ExportTraceServiceRequest, flattened with its resource's attributes. */
export interface OtlpSpan {
  /** Lower-case hex of the id bytes as sent (32 digits when valid; checked by the mapper). */
  traceId: string;
  /** Lower-case hex (16 digits when valid). */
  spanId: string;
  /** Lower-case hex, or null for a root span (absent or empty). */
  parentSpanId: string | null;
  name: string;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  /** `Status.code`: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  attributes: Attributes;
  /** The attributes of the resource the span was reported under, shared by its siblings. */
  resource: Attributes;
}

/** The error for a body that is not an ExportTraceServiceRequest: code `invalid_otlp`, never retriable. */
export function invalidOtlp(field: string, message: string): ValidationError {
  return new ValidationError(field, message, 'invalid_otlp');
}

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** An int64 as a number when it is a safe integer, else as a bigint, so nothing is silently rounded. */
export function int64Value(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}
