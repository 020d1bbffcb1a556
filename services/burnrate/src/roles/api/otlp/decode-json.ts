import { type Attributes, type AttributeValue, int64Value, invalidOtlp, type OtlpSpan } from './spans.js';

type Json = Record<string, unknown>;

/** int64 and uint64 (fixed64 timestamps) share the JSON representation. */
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

const STATUS_CODES: Record<string, number> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};

/**
 * The spans of an OTLP/HTTP JSON body (an ExportTraceServiceRequest in the OTLP JSON encoding:
 * lowerCamelCase field names, trace and span ids in hex, enums as integers, 64-bit integers as
 * numbers or decimal strings), in the same shape as the protobuf decoder's. Unknown fields are
 * ignored and null stands for an absent field, as the proto3 JSON mapping says.
 * @throws ValidationError (code `invalid_otlp`) naming the field that is not what OTLP says.
 */
export function decodeJson(body: Uint8Array): OtlpSpan[] {
  let request: unknown;
  try {
    request = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (error) {
    const reason = error instanceof RangeError ? 'nested too deeply' : (error as Error).message;
    throw invalidOtlp('body', `The body is not JSON: ${reason.replace(/\.$/, '')}.`);
  }
  try {
    return spansOf(object(request, 'body'));
  } catch (error) {
    if (error instanceof RangeError) {
      throw invalidOtlp('body', 'The OTLP request nests attribute values too deeply.');
    }
    throw error;
  }
}

function spansOf(request: Json): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  list(request.resourceSpans, 'resourceSpans').forEach((rs, i) => {
    const at = `resourceSpans[${i}]`;
    const resourceSpans = object(rs, at);
    const resource = optionalObject(resourceSpans.resource, `${at}.resource`);
    const resourceAttributes = attributesOf(resource?.attributes, `${at}.resource.attributes`);
    list(resourceSpans.scopeSpans, `${at}.scopeSpans`).forEach((ss, j) => {
      const scopeAt = `${at}.scopeSpans[${j}]`;
      list(object(ss, scopeAt).spans, `${scopeAt}.spans`).forEach((s, k) => {
        spans.push(spanOf(object(s, `${scopeAt}.spans[${k}]`), `${scopeAt}.spans[${k}]`, resourceAttributes));
      });
    });
  });
  return spans;
}

function spanOf(span: Json, at: string, resource: Attributes): OtlpSpan {
  const status = optionalObject(span.status, `${at}.status`);
  const parent = hex(span.parentSpanId, `${at}.parentSpanId`);
  return {
    traceId: hex(span.traceId, `${at}.traceId`),
    spanId: hex(span.spanId, `${at}.spanId`),
    parentSpanId: parent === '' ? null : parent,
    name: optionalString(span.name, `${at}.name`),
    startTimeUnixNano: int64(span.startTimeUnixNano, `${at}.startTimeUnixNano`),
    endTimeUnixNano: int64(span.endTimeUnixNano, `${at}.endTimeUnixNano`),
    statusCode: statusCode(status?.code, `${at}.status.code`),
    attributes: attributesOf(span.attributes, `${at}.attributes`),
    resource,
  };
}

function attributesOf(value: unknown, at: string): Attributes {
  const attributes = new Map<string, AttributeValue>();
  list(value, at).forEach((kv, i) => {
    const entry = object(kv, `${at}[${i}]`);
    const key = optionalString(entry.key, `${at}[${i}].key`);
    const json = optionalObject(entry.value, `${at}[${i}].value`);
    const decoded = json ? anyValue(json, `${at}[${i}].value`) : undefined;
    if (key !== '' && decoded !== undefined) attributes.set(key, decoded);
  });
  return attributes;
}

/** An AnyValue: the first of its `value` oneof fields present; none present is an empty value. */
function anyValue(v: Json, at: string): AttributeValue | undefined {
  if (v.stringValue != null) return optionalString(v.stringValue, `${at}.stringValue`);
  if (v.boolValue != null) {
    if (typeof v.boolValue !== 'boolean') throw wrongType(`${at}.boolValue`, 'a boolean');
    return v.boolValue;
  }
  if (v.intValue != null) return int64Value(int64(v.intValue, `${at}.intValue`));
  if (v.doubleValue != null) return double(v.doubleValue, `${at}.doubleValue`);
  if (v.bytesValue != null) return Buffer.from(optionalString(v.bytesValue, `${at}.bytesValue`), 'base64');
  if (v.arrayValue != null) {
    const values = optionalObject(v.arrayValue, `${at}.arrayValue`)?.values;
    return list(values, `${at}.arrayValue.values`).flatMap((item, i) => {
      const value = anyValue(object(item, `${at}.arrayValue.values[${i}]`), `${at}.arrayValue.values[${i}]`);
      return value === undefined ? [] : [value];
    });
  }
  if (v.kvlistValue != null) {
    return attributesOf(
      optionalObject(v.kvlistValue, `${at}.kvlistValue`)?.values,
      `${at}.kvlistValue.values`,
    );
  }
  return undefined;
}

function object(value: unknown, at: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw wrongType(at, 'an object');
  return value as Json;
}

function optionalObject(value: unknown, at: string): Json | undefined {
  return value == null ? undefined : object(value, at);
}

function list(value: unknown, at: string): unknown[] {
  if (value == null) return [];
  if (!Array.isArray(value)) throw wrongType(at, 'an array');
  return value;
}

function optionalString(value: unknown, at: string): string {
  if (value == null) return '';
  if (typeof value !== 'string') throw wrongType(at, 'a string');
  return value;
}

/** Ids are hex in OTLP JSON (not base64 as in plain proto3 JSON); their length is checked later. */
function hex(value: unknown, at: string): string {
  const text = optionalString(value, at);
  if (!/^[0-9a-fA-F]*$/.test(text)) throw wrongType(at, 'a hex string');
  return text.toLowerCase();
}

/** A 64-bit integer: a JSON number that is an integer, or a decimal string. */
function int64(value: unknown, at: string): bigint {
  if (value == null) return 0n;
  const n =
    typeof value === 'number' && Number.isInteger(value)
      ? BigInt(value)
      : typeof value === 'string' && /^-?\d{1,20}$/.test(value)
        ? BigInt(value)
        : undefined;
  if (n !== undefined && n >= INT64_MIN && n <= UINT64_MAX) return n;
  throw wrongType(at, 'a 64-bit integer (a number or a decimal string)');
}

/** A double: a number, or "NaN", "Infinity", "-Infinity" as proto3 JSON writes them. */
function double(value: unknown, at: string): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value);
  throw wrongType(at, 'a number');
}

function statusCode(value: unknown, at: string): number {
  if (value == null) return 0;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && Object.hasOwn(STATUS_CODES, value)) return STATUS_CODES[value]!;
  throw wrongType(at, 'a status code (0, 1 or 2)');
}

function wrongType(at: string, expected: string) {
  return invalidOtlp(at, `${at} must be ${expected} in an OTLP JSON ExportTraceServiceRequest.`);
}
