import { ExportTraceServiceResponse, type PbExportTraceServiceResponse } from './proto.js';

/**
 * The body of the answer to an OTLP/HTTP export, an ExportTraceServiceResponse in the request's
 * encoding. When spans were rejected, `partial_success` carries how many and why (the exporter
 * logs it and does not retry); when all were accepted it is left unset, as the OTLP spec asks.
 */
export function encodeResponse(
  encoding: 'protobuf' | 'json',
  rejectedSpans: number,
  errorMessage: string,
): Uint8Array {
  const response: PbExportTraceServiceResponse =
    rejectedSpans > 0 ? { partialSuccess: { rejectedSpans, errorMessage } } : {};
  if (encoding === 'json') return new TextEncoder().encode(JSON.stringify(response));
  return ExportTraceServiceResponse.encode(response).finish();
}
