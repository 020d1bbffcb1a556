import { crc32 } from 'node:zlib';

/** One spooled event: exactly the bytes and key that go to Kafka, so a resend is the same message. */
export interface SpoolRecord {
  eventId: string;
  key: string;
  value: Buffer;
}

/**
 * Record layout (little-endian): u32 body length, u32 CRC-32 of the body, then the body:
 * u8 event-id length, event id (ASCII), u16 key length, key (UTF-8), value bytes.
 * The length prefix finds the next record; the CRC tells a torn or damaged write from a record.
 */
export const RECORD_HEADER_BYTES = 8;

export function encodeRecords(records: readonly SpoolRecord[]): Buffer {
  let total = 0;
  for (const r of records) {
    total += RECORD_HEADER_BYTES + 1 + r.eventId.length + 2 + Buffer.byteLength(r.key) + r.value.length;
  }
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const r of records) {
    const start = pos + RECORD_HEADER_BYTES;
    let p = start;
    p = out.writeUInt8(r.eventId.length, p);
    p += out.write(r.eventId, p, 'latin1');
    const keyLength = out.write(r.key, p + 2, 'utf8');
    out.writeUInt16LE(keyLength, p);
    p += 2 + keyLength;
    p += r.value.copy(out, p);
    out.writeUInt32LE(p - start, pos);
    out.writeUInt32LE(crc32(out.subarray(start, p)), pos + 4);
    pos = p;
  }
  return out;
}

export interface ParseResult {
  records: SpoolRecord[];
  /** Bytes of `buf` taken by the returned records. */
  consumed: number;
  /** Set when a record fails its CRC or has an impossible length: the offset where damage starts. */
  corruptAt?: number;
  /** Length of the record that starts at `consumed` when it is cut off by the end of `buf`. */
  nextRecordBytes?: number;
}

/**
 * Reads whole records from `buf` until `maxRecords` or `maxBytes` (of record data) is reached; at
 * least one record when one is complete, so a single large record cannot stall the reader.
 * Values are views into `buf`, not copies.
 */
export function parseRecords(
  buf: Buffer,
  maxRecords = Number.POSITIVE_INFINITY,
  maxBytes = Number.POSITIVE_INFINITY,
): ParseResult {
  const records: SpoolRecord[] = [];
  let pos = 0;
  let bytes = 0;
  while (records.length < maxRecords && pos + RECORD_HEADER_BYTES <= buf.length) {
    const length = buf.readUInt32LE(pos);
    if (length < 3) return { records, consumed: pos, corruptAt: pos };
    const end = pos + RECORD_HEADER_BYTES + length;
    if (end > buf.length) return { records, consumed: pos, nextRecordBytes: RECORD_HEADER_BYTES + length };
    if (records.length > 0 && bytes + length > maxBytes) break;
    const body = buf.subarray(pos + RECORD_HEADER_BYTES, end);
    if (crc32(body) !== buf.readUInt32LE(pos + 4)) return { records, consumed: pos, corruptAt: pos };
    const idLength = body[0]!;
    const keyLengthAt = 1 + idLength;
    if (keyLengthAt + 2 > body.length) return { records, consumed: pos, corruptAt: pos };
    const keyLength = body.readUInt16LE(keyLengthAt);
    const valueAt = keyLengthAt + 2 + keyLength;
    if (valueAt > body.length) return { records, consumed: pos, corruptAt: pos };
    records.push({
      eventId: body.toString('latin1', 1, keyLengthAt),
      key: body.toString('utf8', keyLengthAt + 2, valueAt),
      value: body.subarray(valueAt),
    });
    bytes += length;
    pos = end;
  }
  return { records, consumed: pos };
}
