import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { DEAD_LETTER_COLUMNS } from '../facts/columns.js';
import { KafkaReadTimeoutError } from '../kafka/errors.js';
import { unpackRows } from '../kafka/pack-rows.js';

/** One dead letter: a row of a (packed) usage.dlq message, as the enricher wrote it. */
export interface DeadLetter {
  /** `<partition>:<offset>` of the rejected record in usage.events: the letter's id. */
  id: string;
  /** When the rejected record reached Kafka (its record timestamp), ISO-8601 UTC. */
  received_at: string;
  reason: string;
  field: string;
  message: string;
  source_topic: string;
  source_partition: number;
  source_offset: string;
  key: string;
  payload_base64: string;
  /** Where the letter itself is: usage.dlq partition, message offset, row within the message. */
  dlq_position: string;
}

/** Records a requeue leaves on this topic, keyed by the letter id: a letter is requeued at most once. */
export const requeuedTopic = (dlqTopic: string) => `${dlqTopic}.requeued`;

/**
 * Everything on `topic` up to its end at the time of the call, read with a throwaway group that
 * commits nothing. Transaction markers take offsets but are never delivered, so "the end" is the
 * high watermark, or the fetches coming back empty twice after the last record.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  each: (partition: number, offset: string, key: Buffer | null, value: Buffer | null) => void,
  timeoutMs = 60_000,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  let targets: Map<number, bigint>;
  try {
    if (!(await admin.listTopics()).includes(topic)) return;
    targets = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  } finally {
    await admin.disconnect();
  }
  const seen = new Map<number, bigint>();
  const caughtUp = () => [...targets].every(([p, high]) => (seen.get(p) ?? -1n) + 1n >= high);
  if (caughtUp()) return;
  const groupId = `burnrate-cli-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  let emptyFetches = 0;
  let joined = false;
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  consumer.on(consumer.events.FETCH, () => {
    if (!joined) return;
    if (++emptyFetches >= 3) done();
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        emptyFetches = 0;
        const target = targets.get(partition);
        if (target === undefined || BigInt(message.offset) >= target) return;
        each(partition, message.offset, message.key, message.value);
        seen.set(partition, BigInt(message.offset));
        if (caughtUp()) done();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      finished,
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new KafkaReadTimeoutError(
                topic,
                `Reading ${topic} did not finish within ${timeoutMs} ms: check that Kafka is up and try again.`,
              ),
            ),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect();
    const cleanup = kafka.admin();
    await cleanup.connect();
    await cleanup.deleteGroups([groupId]).catch(() => {});
    await cleanup.disconnect();
  }
}

/** Every dead letter on the DLQ topic, oldest first. */
export async function readDeadLetters(kafka: Kafka, dlqTopic: string): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  await readTopic(kafka, dlqTopic, (partition, offset, _key, value) => {
    if (!value) return;
    unpackRows(value).forEach((line, index) => {
      const letter = parseLetter(line, `${partition}:${offset}#${index}`);
      if (letter) letters.push(letter);
    });
  });
  return letters;
}

function parseLetter(line: string, position: string): DeadLetter | undefined {
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!Array.isArray(row) || row.length !== DEAD_LETTER_COLUMNS.length) return undefined;
  const [receivedMs, reason, field, message, sourceTopic, sourcePartition, sourceOffset, key, payload] = row;
  return {
    id: `${sourcePartition}:${sourceOffset}`,
    received_at: new Date(Number(receivedMs)).toISOString(),
    reason: String(reason),
    field: String(field),
    message: String(message),
    source_topic: String(sourceTopic),
    source_partition: Number(sourcePartition),
    source_offset: String(sourceOffset),
    key: String(key),
    payload_base64: String(payload),
    dlq_position: position,
  };
}

/** Ids of the letters already requeued (keys on the requeued topic). */
export async function requeuedIds(kafka: Kafka, dlqTopic: string): Promise<Set<string>> {
  const ids = new Set<string>();
  await readTopic(kafka, requeuedTopic(dlqTopic), (_p, _o, key) => {
    if (key) ids.add(key.toString('utf8'));
  });
  return ids;
}
