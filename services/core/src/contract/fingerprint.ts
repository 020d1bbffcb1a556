/**
 * CRC-64-AVRO, the 64-bit Rabin fingerprint the Avro specification defines ("Schema
 * Fingerprints") and Avro for Java computes in SchemaNormalization.parsingFingerprint64. avsc only
 * offers MD5 and SHA-256, so it lives here. It runs once per schema, never per event, hence BigInt.
 */
const EMPTY = 0xc15d213aa4d7a795n;

const TABLE: readonly bigint[] = Array.from({ length: 256 }, (_, i) => {
  let fp = BigInt(i);
  for (let bit = 0; bit < 8; bit++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n));
  return fp;
});

/** CRC-64-AVRO of bytes, or of a string's UTF-8 encoding, as an unsigned 64-bit integer. */
export function crc64Avro(data: Uint8Array | string): bigint {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let fp = EMPTY;
  for (const byte of bytes) fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(byte)) & 0xffn)]!;
  return fp;
}

/**
 * A fingerprint as 16 lower-case hex digits, most significant first — how Avro for Java prints
 * the long (`%016x`). On the wire the same eight bytes go little-endian, so they read reversed.
 */
export function fingerprintHex(fingerprint: bigint): string {
  return fingerprint.toString(16).padStart(16, '0');
}
