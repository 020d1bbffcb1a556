import { BurnrateError, decodeUsageEvent, ValidationError } from '@burnrate/core';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import type { Kafka } from 'kafkajs';
import { type Config, loadConfig } from '../config/load.js';
import { createKafka } from '../kafka/client.js';
import { topicNames } from '../kafka/topics.js';
import { createLogger } from '../runtime/logger.js';
import { type DeadLetter, readDeadLetters, requeuedIds, requeuedTopic } from './dlq-topic.js';
import { wholeNumber } from './kit/options.js';
import { type CliOutput, count, processOutput, renderTable, toJson } from './kit/output.js';
import { type Period, resolvePeriod, withPeriodOptions } from './kit/period.js';

type PeriodOptions = { from?: string; to?: string };
const LETTER_ID = /^(\d{1,9}):(\d{1,19})$/;
/** Header on a requeued record naming the dead letter it came from. */
export const REQUEUED_FROM_HEADER = 'burnrate-requeued-from';

/** `burnrate dlq …`: dead letters on `<prefix>usage.dlq` by reason, one decoded, requeue after a fix. */
export function createDlqCommand(output: CliOutput = processOutput): Command {
  const dlq = new Command('dlq').description('dead letters: by reason, one decoded, requeue after a fix');
  withPeriodOptions(
    dlq
      .command('list')
      .description('dead letters counted by reason, with the newest examples')
      .option('--reason <reason>', 'only this reason')
      .option(
        '--examples <n>',
        'how many of the newest letters to show (default: 10)',
        wholeNumber('--examples', 1000),
      )
      .option('--json', 'print JSON'),
  ).action(async (o: PeriodOptions & { reason?: string; examples?: number; json?: boolean }) => {
    const period = resolvePeriod(o, Date.now());
    const { letters, requeued } = await withKafka(async (kafka, topic) => ({
      letters: inPeriod(await readDeadLetters(kafka, topic), period, o.reason),
      requeued: await requeuedIds(kafka, topic),
    }));
    const byReason = summarize(letters, requeued);
    const newest = letters.slice(-(o.examples ?? 10)).reverse();
    if (o.json) {
      output.out(
        toJson({ reasons: byReason, newest: newest.map((l) => ({ ...l, requeued: requeued.has(l.id) })) }),
      );
      return;
    }
    if (letters.length === 0) {
      output.out('No dead letters in this period.\n');
      return;
    }
    output.out(
      renderTable(
        [
          { title: 'REASON' },
          { title: 'FIELD', maxChars: 30 },
          { title: 'LETTERS', align: 'right' },
          { title: 'REQUEUED', align: 'right' },
          { title: 'NEWEST' },
        ],
        byReason.map((r) => [r.reason, r.field, count(r.letters), count(r.requeued), r.newest]),
      ),
    );
    output.out(`\nNewest ${newest.length}:\n`);
    output.out(
      renderTable(
        [{ title: 'ID' }, { title: 'RECEIVED' }, { title: 'REASON' }, { title: 'MESSAGE', maxChars: 100 }],
        newest.map((l) => [
          l.id + (requeued.has(l.id) ? ' (requeued)' : ''),
          l.received_at,
          l.reason,
          l.message,
        ]),
      ),
    );
    output.out(
      '\n`burnrate dlq show <id>` decodes one; `burnrate dlq requeue` sends them again after a fix.\n',
    );
  });
  dlq
    .command('show')
    .description('one dead letter: why, where from, and its payload decoded')
    .argument('<id>', 'partition:offset of the rejected record in usage.events, as dlq list shows it')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      if (!LETTER_ID.test(id)) {
        throw new ValidationError(
          'id',
          `"${id.slice(0, 60)}" is not a letter id: give partition:offset as dlq list shows it, e.g. 0:42.`,
          'invalid_argument',
        );
      }
      const { letter, requeued } = await withKafka(async (kafka, topic) => ({
        letter: (await readDeadLetters(kafka, topic)).findLast((l) => l.id === id),
        requeued: (await requeuedIds(kafka, topic)).has(id),
      }));
      if (!letter) {
        throw new ValidationError(
          'id',
          `There is no dead letter ${id}: pick an id from burnrate dlq list.`,
          'invalid_argument',
        );
      }
      const shown = { ...letter, requeued, payload: decodePayload(letter.payload_base64) };
      output.out(o.json ? toJson(shown) : letterText(shown));
    });
  withPeriodOptions(
    dlq
      .command('requeue')
      .description('publish dead letters to usage.events again (after fixing what rejected them), each once')
      .option('--reason <reason>', 'only letters with this reason')
      .option('--dry-run', 'say what would be requeued, and change nothing'),
  ).action(async (o: PeriodOptions & { reason?: string; dryRun?: boolean }) => {
    const period = resolvePeriod(o, Date.now());
    await withKafka(async (kafka, topic, config) => {
      const target = topicNames(config.BURNRATE_TOPIC_PREFIX).events;
      const select = async () => {
        const done = await requeuedIds(kafka, topic);
        return dedupe(inPeriod(await readDeadLetters(kafka, topic), period, o.reason)).filter(
          (l) => !done.has(l.id) && l.payload_base64 !== '',
        );
      };
      const nothing =
        'Nothing to requeue: every matching dead letter was requeued already (or there are none).\n';
      const letters = (n: number) => `${n} dead letter${n === 1 ? '' : 's'}`;
      if (o.dryRun) {
        const pending = await select();
        output.out(
          pending.length === 0
            ? nothing
            : `Would requeue ${letters(pending.length)} to ${target} (dry run: nothing sent).\n`,
        );
        return;
      }
      const sent = await requeue(kafka, topic, target, select, output);
      output.out(sent === 0 ? nothing : `Requeued ${letters(sent)} to ${target}.\n`);
    });
  });
  return dlq;
}

function inPeriod(letters: DeadLetter[], period: Period, reason: string | undefined): DeadLetter[] {
  return letters.filter((l) => {
    const ms = Date.parse(l.received_at);
    return ms >= period.fromMs && ms < period.toMs && (reason === undefined || l.reason === reason);
  });
}

/** One letter per id (a record is dead-lettered once; a repeat after a crash is the same letter). */
function dedupe(letters: DeadLetter[]): DeadLetter[] {
  return [...new Map(letters.map((l) => [l.id, l])).values()];
}

function summarize(letters: DeadLetter[], requeued: Set<string>) {
  const groups = new Map<
    string,
    { reason: string; field: string; letters: number; requeued: number; newest: string }
  >();
  for (const l of letters) {
    const k = `${l.reason}\u0000${l.field}`;
    const g = groups.get(k) ?? {
      reason: l.reason,
      field: l.field,
      letters: 0,
      requeued: 0,
      newest: l.received_at,
    };
    g.letters++;
    if (requeued.has(l.id)) g.requeued++;
    if (l.received_at > g.newest) g.newest = l.received_at;
    groups.set(k, g);
  }
  return [...groups.values()].sort((a, b) => b.letters - a.letters || a.reason.localeCompare(b.reason));
}

function decodePayload(base64: string): unknown {
  if (base64 === '') return { error: 'The record had no value.' };
  try {
    return decodeUsageEvent(Buffer.from(base64, 'base64')).event;
  } catch (error) {
    return { error: `Not decodable with the Avro codec: ${(error as Error).message}` };
  }
}

function letterText(l: DeadLetter & { requeued: boolean; payload: unknown }): string {
  return `${[
    `letter     ${l.id}${l.requeued ? ' (requeued)' : ''}`,
    `received   ${l.received_at}`,
    `reason     ${l.reason}`,
    `field      ${l.field || '—'}`,
    `message    ${l.message}`,
    `from       ${l.source_topic} partition ${l.source_partition} offset ${l.source_offset}, key ${l.key || '(none)'}`,
    `in         ${l.dlq_position} (usage.dlq partition:offset#row)`,
    'payload',
  ].join('\n')}\n${toJson(l.payload).replace(/^/gm, '  ')}`;
}

/**
 * Publishes the letters' original bytes and key to usage.events and, in the same Kafka transaction,
 * one record per letter (keyed by its id) to `<dlq>.requeued`: both or neither. A later requeue
 * skips the ids found there. Order matters: the producer connects first (`producer.connect()` sends
 * InitProducerId with the fixed transactional id, which fences any concurrent requeue and ends its
 * open transaction), and only then does `select` read the markers (read committed) and the letters — so a run that committed
 * before this one's read is seen, and one that had not is fenced and sends nothing. Returns how
 * many letters were sent.
 */
export async function requeue(
  kafka: Kafka,
  dlqTopic: string,
  target: string,
  select: () => Promise<DeadLetter[]>,
  output: CliOutput,
): Promise<number> {
  const markers = requeuedTopic(dlqTopic);
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(markers)) {
      await admin.createTopics({
        topics: [
          { topic: markers, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
        ],
        waitForLeaders: true,
      });
    }
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({
    transactionalId: `burnrate-cli-dlq-requeue-${dlqTopic}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  let bar: SingleBar | undefined;
  await producer.connect();
  try {
    const tx = await producer.transaction();
    try {
      const letters = await select();
      if (letters.length === 0) {
        await tx.abort();
        return 0;
      }
      bar = output.interactive
        ? new SingleBar({
            stream: process.stderr,
            format: 'requeue [{bar}] {value}/{total}',
            hideCursor: true,
          })
        : undefined;
      bar?.start(letters.length, 0);
      const requeuedAt = new Date().toISOString();
      for (let i = 0; i < letters.length; i += 500) {
        const chunk = letters.slice(i, i + 500);
        await tx.send({
          topic: target,
          acks: -1,
          messages: chunk.map((l) => ({
            key: l.key === '' ? null : l.key,
            value: Buffer.from(l.payload_base64, 'base64'),
            headers: { [REQUEUED_FROM_HEADER]: `${l.source_topic}/${l.id}` },
          })),
        });
        await tx.send({
          topic: markers,
          acks: -1,
          messages: chunk.map((l) => ({
            key: l.id,
            value: JSON.stringify({ requeued_at: requeuedAt, reason: l.reason, to: target }),
          })),
        });
        bar?.update(i + chunk.length);
      }
      await tx.commit();
      return letters.length;
    } catch (error) {
      await tx.abort().catch(() => {});
      throw fencedOrAsIs(error, dlqTopic);
    }
  } finally {
    bar?.stop();
    await producer.disconnect();
  }
}

/**
 * A KafkaJS error on send or commit — typically a concurrent requeue having fenced this one — as one
 * sentence (retriable: exit 1); anything else as it is.
 */
export function fencedOrAsIs(error: unknown, dlqTopic: string): unknown {
  if (error instanceof BurnrateError || !(error instanceof Error) || !error.name.startsWith('KafkaJS'))
    return error;
  return new BurnrateError(
    'requeue_interrupted',
    `The requeue from ${dlqTopic} was interrupted (${error.message.replace(/\.$/, '')}), probably by a concurrent requeue: nothing of this run was committed; run it again once the other one finished.`,
    { retriable: true, cause: error },
  );
}

async function withKafka<T>(
  body: (kafka: Kafka, dlqTopic: string, config: Config) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'burnrate-cli', logger });
  return body(kafka, topicNames(config.BURNRATE_TOPIC_PREFIX).dlq, config);
}
