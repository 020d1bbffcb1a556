import {
  ExportTraceServiceRequest,
  type PbAnyValue,
  type PbExportTraceServiceRequest,
  type PbKeyValue,
  pbInt64,
} from './proto.js';
import {
  type Attributes,
  type AttributeValue,
  int64Value,
  invalidOtlp,
  type OtlpSpan,
  toHex,
} from './spans.js';

/**
 * The spans of an OTLP/HTTP protobuf body (an ExportTraceServiceRequest), decoded with the
 * official generated code.
 * @throws ValidationError (code `invalid_otlp`, field `body`) when the bytes do not decode.
 */
export function decodeProtobuf(body: Uint8Array): OtlpSpan[] {
  let request: PbExportTraceServiceRequest;
  try {
    request = ExportTraceServiceRequest.decode(body);
  } catch (error) {
    throw invalidOtlp(
      'body',
      `The body is not a protobuf OTLP ExportTraceServiceRequest: ${describe(error)}.`,
    );
  }
  try {
    return spansOf(request);
  } catch (error) {
    if (error instanceof RangeError) {
      throw invalidOtlp('body', 'The OTLP request nests attribute values too deeply.');
    }
    throw error;
  }
}

function spansOf(request: PbExportTraceServiceRequest): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        const parent = span.parentSpanId;
        spans.push({
          traceId: toHex(span.traceId ?? new Uint8Array()),
          spanId: toHex(span.spanId ?? new Uint8Array()),
          parentSpanId: parent && parent.length > 0 ? toHex(parent) : null,
          name: span.name ?? '',
          startTimeUnixNano: pbInt64(span.startTimeUnixNano),
          endTimeUnixNano: pbInt64(span.endTimeUnixNano),
          statusCode: span.status?.code ?? 0,
          attributes: attributesOf(span.attributes),
          resource,
        });
      }
    }
  }
  return spans;
}

function attributesOf(list: PbKeyValue[] | null | undefined): Attributes {
  const attributes = new Map<string, AttributeValue>();
  for (const kv of list ?? []) {
    const value = kv.value ? anyValue(kv.value) : undefined;
    if (kv.key && value !== undefined) attributes.set(kv.key, value);
  }
  return attributes;
}

/** An AnyValue with no field of its `value` oneof set is an empty value: undefined, i.e. absent. */
function anyValue(v: PbAnyValue): AttributeValue | undefined {
  switch (v.value) {
    case 'stringValue':
      return v.stringValue ?? '';
    case 'boolValue':
      return v.boolValue ?? false;
    case 'intValue':
      return int64Value(pbInt64(v.intValue));
    case 'doubleValue':
      return v.doubleValue ?? 0;
    case 'bytesValue':
      return v.bytesValue ?? new Uint8Array();
    case 'arrayValue':
      return (v.arrayValue?.values ?? []).flatMap((item) => {
        const value = anyValue(item);
        return value === undefined ? [] : [value];
      });
    case 'kvlistValue':
      return attributesOf(v.kvlistValue?.values);
    default:
      return undefined;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.replace(/\.$/, '') : String(error);
}
