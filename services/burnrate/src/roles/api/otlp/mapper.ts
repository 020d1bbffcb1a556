import type { EmitInput } from '@burnrate/sdk';
import { decodeJson } from './decode-json.js';
import { decodeProtobuf } from './decode-protobuf.js';
import { mapGenAISpan, type OtlpMappingConfig } from './genai-spans.js';
import { encodeResponse } from './response.js';

export type { OtlpMappingConfig } from './genai-spans.js';

/** The attributes searched when the configuration does not say. */
export const DEFAULT_OTLP_MAPPING: Readonly<OtlpMappingConfig> = Object.freeze({
  customerAttributes: ['burnrate.customer_ref'],
  workflowAttributes: ['burnrate.workflow', 'gen_ai.agent.name'],
});

/** What one OTLP trace export becomes. */
export interface OtlpBatch {
  /** One emit() input per GenAI span, each accepted by buildEvent(). */
  events: Array<{ spanId: string; input: EmitInput }>;
  /** GenAI spans that cannot be usage events, with the attribute (or event field) at fault. */
  rejected: Array<{ spanId: string; field: string; message: string }>;
  /** Spans that are not GenAI model calls (no gen_ai usage attributes): not an error, just not usage. */
  ignored: number;
}

/** Turns OTLP/HTTP trace exports into usage events and answers them. */
export interface OtlpTraceMapper {
  /**
   * The usage events in a decoded (decompressed) request body.
   * @throws ValidationError (a BurnrateError, code `invalid_otlp`, field naming what) when the
   * body is not an ExportTraceServiceRequest in the given encoding.
   */
  map(body: Uint8Array, encoding: 'protobuf' | 'json'): OtlpBatch;
  /** The ExportTraceServiceResponse body, with partial_success when rejectedSpans > 0. */
  response(encoding: 'protobuf' | 'json', rejectedSpans: number, errorMessage: string): Uint8Array;
}

/**
 * A mapper from OTLP traces (OpenTelemetry GenAI spans) to usage events. Missing settings take
 * {@link DEFAULT_OTLP_MAPPING}'s.
 */
export function createOtlpTraceMapper(config: Partial<OtlpMappingConfig> = {}): OtlpTraceMapper {
  const settings: OtlpMappingConfig = {
    customerAttributes: nonEmpty(config.customerAttributes) ?? DEFAULT_OTLP_MAPPING.customerAttributes,
    workflowAttributes: config.workflowAttributes ?? DEFAULT_OTLP_MAPPING.workflowAttributes,
  };
  return {
    map(body, encoding) {
      const spans = encoding === 'json' ? decodeJson(body) : decodeProtobuf(body);
      const batch: OtlpBatch = { events: [], rejected: [], ignored: 0 };
      for (const span of spans) {
        const outcome = mapGenAISpan(span, settings);
        if (outcome.kind === 'event') batch.events.push({ spanId: span.spanId, input: outcome.input });
        else if (outcome.kind === 'rejected') {
          batch.rejected.push({ spanId: span.spanId, field: outcome.field, message: outcome.message });
        } else batch.ignored++;
      }
      return batch;
    },
    response: encodeResponse,
  };
}

function nonEmpty(keys: string[] | undefined): string[] | undefined {
  const usable = keys?.filter((key) => key !== '');
  return usable && usable.length > 0 ? usable : undefined;
}
