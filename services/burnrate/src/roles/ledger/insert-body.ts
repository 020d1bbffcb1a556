import { createHash } from 'node:crypto';

/** One partition's messages as KafkaJS delivers them (values are packed rows, one per line). */
export interface BodyPart {
  topic: string;
  partition: number;
  messages: ReadonlyArray<{ offset: string; value: Buffer | null }>;
}

/** The rows of a group of partition batches, ready to send: one JSONCompactEachRow line each. */
export interface InsertBody {
  /** The lines, each ending with the position columns `,"topic",partition,offset,row]` and `\n`. */
  bytes: Buffer;
  rows: number;
  /** Rows left out as already stored, as `topic/partition@offset:row`. */
  skipped: string[];
  /** The whole buffer `bytes` lies in: hand it to the next call once this insert has settled. */
  buffer: Buffer;
}

const NEWLINE = 0x0a;
const CLOSE = 0x5d; // ]

/**
 * Builds the INSERT body straight from the Kafka message bytes: each packed row is copied as it is,
 * with the consumed position spliced in before its closing `]`. No row becomes a JavaScript string —
 * the bytes go from the fetch response to ClickHouse's parser with one copy (the ledger's string
 * assembly was ≈ 2 µs per row; scripts/bench-peer.ts measures this).
 *
 * `skip(part, offset, row)` leaves out rows already stored (the replay guard). A line without a
 * closing `]` (never written by the enricher) is copied with the position appended, so ClickHouse
 * rejects it and the ledger dead-letters exactly that row.
 */
export function buildInsertBody(
  parts: readonly BodyPart[],
  skip?: (part: number, offset: string, row: number) => boolean,
  reuse?: Buffer,
): InsertBody {
  let size = 0;
  for (const part of parts) for (const m of part.messages) size += m.value ? m.value.length + 64 : 0;
  const wanted = Math.ceil(Math.max(size * 1.15, 1024));
  // Reusing the last body's buffer matters: first writes to fresh memory (page faults) cost more
  // than the copy itself — 2 µs per row on the development VM (scripts/bench-peer.ts).
  let out = reuse && reuse.length >= wanted ? reuse : Buffer.allocUnsafe(wanted);
  let at = 0;
  let rows = 0;
  const skipped: string[] = [];
  const room = (bytes: number) => {
    if (at + bytes <= out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(out.length * 2, at + bytes));
    out.copy(grown, 0, 0, at);
    out = grown;
  };
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    const prefix = `,${JSON.stringify(part.topic)},${part.partition},`;
    for (const m of part.messages) {
      const value = m.value;
      if (!value) continue;
      const position = Buffer.from(`${prefix}${m.offset},`, 'latin1');
      let row = 0;
      for (let start = 0; start <= value.length; row++) {
        let end = value.indexOf(NEWLINE, start);
        if (end === -1) end = value.length;
        if (skip?.(p, m.offset, row)) skipped.push(`${part.topic}/${part.partition}@${m.offset}:${row}`);
        else {
          const close = end > start && value[end - 1] === CLOSE ? end - 1 : end;
          room(close - start + position.length + 16);
          at += value.copy(out, at, start, close);
          for (let i = 0; i < position.length; i++) out[at++] = position[i]!;
          at = writeDigits(out, at, row);
          out[at++] = CLOSE;
          out[at++] = NEWLINE;
          rows++;
        }
        start = end + 1;
      }
    }
  }
  return { bytes: out.subarray(0, at), rows, skipped, buffer: out };
}

/**
 * The deduplication token of an insert built by buildInsertBody: the exact Kafka range of each part
 * (topic, partition, first and last offset, message count) and the rows left out. Messages in a
 * range never change, so the same token always names the same rows, and a retried insert of them
 * is dropped by ClickHouse; any other set of rows has another token.
 */
export function bodyToken(parts: readonly BodyPart[], body: InsertBody): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    const first = part.messages[0]?.offset ?? '';
    const last = part.messages[part.messages.length - 1]?.offset ?? '';
    hash.update(`|${part.topic}/${part.partition}:${first}-${last}#${part.messages.length}`);
  }
  if (body.skipped.length > 0) hash.update(`|skip:${body.skipped.join(',')}`);
  return hash.digest('hex');
}

/** Writes a non-negative integer's decimal digits at `at`; returns the position after them. */
function writeDigits(out: Buffer, at: number, n: number): number {
  if (n < 10) {
    out[at] = 0x30 + n;
    return at + 1;
  }
  const digits = String(n);
  for (let i = 0; i < digits.length; i++) out[at + i] = digits.charCodeAt(i);
  return at + digits.length;
}
