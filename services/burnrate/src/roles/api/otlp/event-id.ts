import { createHash } from 'node:crypto';

/**
 * The event_id of the usage event made from one span: the same for the same (customer, trace id,
 * span id), so an exporter that resends a batch produces events the pipeline deduplicates — and a
 * sender for another customer who knows the ids (trace ids travel in traceparent headers) cannot
 * make an event that takes this one's id. A UUIDv8 (RFC 9562, custom layout): the first 16 bytes of
 * SHA-256 over the 16 trace id bytes, the 8 span id bytes and the customer_ref in UTF-8, with the
 * version nibble set to 8 and the variant bits to 10. Ids are lower-case hex.
 */
export function spanEventId(traceId: string, spanId: string, customerRef: string): string {
  const digest = createHash('sha256')
    .update(Buffer.from(traceId + spanId, 'hex'))
    .update(customerRef, 'utf8')
    .digest();
  digest[6] = (digest[6]! & 0x0f) | 0x80;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
