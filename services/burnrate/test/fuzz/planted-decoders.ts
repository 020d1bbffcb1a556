import { type DecodedUsageEvent, decodeUsageEvent } from '@burnrate/core';

/**
 * Broken decoders for the negative controls of the decoder fuzz: each wraps the real one and plants
 * one kind of failure the harness must report. Loaded by path into the decoding thread.
 */

/** Throws a plain Error (not a BurnrateError) for about one record in 25. */
export function untypedDecoder(bytes: Uint8Array): DecodedUsageEvent {
  if (bytes.length % 25 === 0) throw new Error('planted: an untyped failure');
  return decodeUsageEvent(bytes);
}

/** Never returns for a record shorter than its header, like a decoder stuck in a loop. */
export function hangingDecoder(bytes: Uint8Array): DecodedUsageEvent {
  if (bytes.length < 10) for (;;);
  return decodeUsageEvent(bytes);
}

/** Loses the tags, as a lenient decoder loses what it cannot read: the values no longer match the bytes. */
export function lossyDecoder(bytes: Uint8Array): DecodedUsageEvent {
  const decoded = decodeUsageEvent(bytes);
  return { ...decoded, event: { ...decoded.event, tags: {} } };
}
