import type { Message } from 'kafkajs';
import { partitionForKey } from './murmur2.js';

/** Largest message value we build; several fit in one produce request under the 1 MB default. */
export const MAX_PACKED_BYTES = 256 * 1024;

/**
 * Packs JSON rows into few Kafka messages: rows are grouped by the partition their key hashes to
 * (as a keyed record would be), and each message carries many rows separated by newlines. Per-
 * message costs (KafkaJS encoding, CRCs, broker bookkeeping) then amortise over hundreds of rows,
 * while a key's rows still share a partition and keep their order.
 */
export function packRows(rows: Array<{ key: string; value: string }>, partitions: number): Message[] {
  const byPartition = new Map<number, string[]>();
  for (const row of rows) {
    const p = partitionForKey(row.key, partitions);
    let lines = byPartition.get(p);
    if (!lines) {
      lines = [];
      byPartition.set(p, lines);
    }
    lines.push(row.value);
  }
  const messages: Message[] = [];
  for (const [partition, lines] of byPartition) {
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < lines.length; i++) {
      const size = lines[i]!.length + 1;
      if (i > start && bytes + size > MAX_PACKED_BYTES) {
        messages.push({ partition, value: lines.slice(start, i).join('\n') });
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    messages.push({ partition, value: lines.slice(start).join('\n') });
  }
  return messages;
}

/** The rows of a packed message value. */
export function unpackRows(value: Buffer): string[] {
  return value.toString('utf8').split('\n');
}
