// The ledger against ClickHouse's own Kafka table engine (librdkafka + a materialized view), both
// storing the same usage.enriched rows (made by the real enrichment stage, packed as the enricher
// packs them) into the same schema — facts and rollup views — in a `burnrate run` process that owns
// chDB: one process with the `clickhouse` role and a Kafka engine table created in it, one with the
// `clickhouse,ledger` roles. Rounds alternate between the two; the ratio is per round. Then the
// ledger's work is taken apart stage by stage in this process, on the same rows. CPU comes from
// /proc per process and per thread (the JavaScript thread apart from the engine's threads).
//   npm run stack -- up
//   KAFKA_BROKERS=127.0.0.1:9092 node --conditions=@burnrate/source --import tsx scripts/bench-peer.ts [rows] [rounds]
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { KafkaMessage } from 'kafkajs';
import { pino } from 'pino';
import { createClickHouseClient, insertLines } from '../services/burnrate/src/clickhouse/client.js';
import { migrate } from '../services/burnrate/src/clickhouse/migrate.js';
import { FACT_COLUMNS, KAFKA_POSITION_COLUMNS } from '../services/burnrate/src/facts/columns.js';
import { createKafka } from '../services/burnrate/src/kafka/client.js';
import { unpackRows } from '../services/burnrate/src/kafka/pack-rows.js';
import { ensureTopics, topicNames } from '../services/burnrate/src/kafka/topics.js';
import { bodyToken, buildInsertBody } from '../services/burnrate/src/roles/ledger/insert-body.js';
import { ReplayGuard } from '../services/burnrate/src/roles/ledger/replay-guard.js';
import { clickhouseOwner, exitOf, produceEnrichedRows } from './bench-process.js';
import { cpuSeconds, threadCpu } from './proc-stats.js';

const N = Number(process.argv[2] ?? 300_000);
const ROUNDS = Number(process.argv[3] ?? 2);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const kafka = createKafka({
  brokers: brokers.split(','),
  clientId: 'bench-peer',
  logger: pino({ level: 'error' }),
});
const prefix = `peer${Date.now()}.`;
const topics = topicNames(prefix);
const env = { KAFKA_BROKERS: brokers, BURNRATE_TOPIC_PREFIX: prefix, CLICKHOUSE_DATABASE: 'bench' };
const port = 18_123 + Math.floor(Math.random() * 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const COLUMNS = [...FACT_COLUMNS, ...KAFKA_POSITION_COLUMNS];

interface Run {
  /** CPU µs per row of the whole process: from its spawn (start-up and migrations included). */
  whole: number;
  /** From the moment it was ready (HTTP answering, schema migrated) to the last row stored. */
  ready: number;
  /** Sustained: from the first row stored to the last. */
  sustained: number;
  rowsPerSecond: number;
  /** CPU µs per row by thread, from ready to the last row: where the process spends it. */
  threads: string;
}

/** Polls the process's fact count until N and reads its CPU from /proc at the points of Run. */
async function follow(pid: number | undefined, count: () => Promise<number>, ready: number): Promise<Run> {
  const spawned = performance.now();
  const threadsAtReady = threadCpu(pid);
  let first: { at: number; cpu: number; done: number } | undefined;
  for (;;) {
    const done = await count();
    if (!first && done > 0) first = { at: performance.now(), cpu: cpuSeconds(pid), done };
    if (done >= N) break;
    if (performance.now() - spawned > 600_000) throw new Error(`only ${done} of ${N} rows after 10 minutes`);
    await sleep(50);
  }
  const cpu = cpuSeconds(pid);
  const at = performance.now();
  const threads = [...threadCpu(pid)]
    .map(([name, seconds]) => [name, ((seconds - (threadsAtReady.get(name) ?? 0)) * 1e6) / N] as const)
    .filter(([, perRow]) => perRow >= 0.1)
    .sort((a, b) => b[1] - a[1])
    .map(([name, perRow]) => `${name} ${perRow.toFixed(1)}`)
    .join(', ');
  const sustainedRows = N - first!.done;
  return {
    whole: (cpu * 1e6) / N,
    ready: ((cpu - ready) * 1e6) / N,
    sustained: sustainedRows > 0 ? ((cpu - first!.cpu) * 1e6) / sustainedRows : Number.NaN,
    rowsPerSecond: sustainedRows / ((at - first!.at) / 1000),
    threads,
  };
}

async function whenReady(count: () => Promise<number>): Promise<void> {
  while ((await count()) < 0) await sleep(100);
}

/** The Kafka table engine + a materialized view into the migrated usage_events, in a `clickhouse` process. */
async function engineRound(round: number): Promise<Run> {
  const { owner, ch, count } = clickhouseOwner('clickhouse', port + 2 * round, env);
  await whenReady(count);
  const ready = cpuSeconds(owner.pid);
  const rs = await ch.query({
    query: `SELECT name, type FROM system.columns WHERE database = 'bench' AND table = 'usage_events'`,
    format: 'JSONEachRow',
  });
  const types = new Map((await rs.json<{ name: string; type: string }>()).map((c) => [c.name, c.type]));
  await ch.command({
    query: `CREATE TABLE bench.enriched_queue (${FACT_COLUMNS.map((c) => `${c} ${types.get(c)}`).join(', ')})
            ENGINE = Kafka SETTINGS kafka_broker_list = '${brokers}', kafka_topic_list = '${topics.enriched}',
            kafka_group_name = '${prefix}engine-${round}', kafka_format = 'JSONCompactEachRow',
            kafka_num_consumers = 1, kafka_max_block_size = 65536`,
  });
  await ch.command({
    query: `CREATE MATERIALIZED VIEW bench.enriched_queue_mv TO bench.usage_events AS
            SELECT *, _topic AS kafka_topic, _partition AS kafka_partition, _offset AS kafka_offset FROM bench.enriched_queue`,
  });
  const run = await follow(owner.pid, count, ready);
  owner.kill('SIGTERM');
  await exitOf(owner);
  await ch.close();
  return run;
}

/** The ledger in the process that owns chDB, as `npm start` runs it. */
async function ledgerRound(round: number): Promise<Run> {
  const { owner, ch, count } = clickhouseOwner('clickhouse,ledger', port + 2 * round + 1, env);
  await whenReady(count);
  const run = await follow(owner.pid, count, cpuSeconds(owner.pid));
  owner.kill('SIGTERM');
  await exitOf(owner);
  await ch.close();
  // The next round's ledger starts from the beginning again.
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups([`${prefix}burnrate-ledger`]);
  await admin.disconnect();
  return run;
}

const us = (n: number) => n.toFixed(1).padStart(6);

/** The ledger's stages one at a time in this process, each on all N rows, CPU µs per row. */
async function stages(): Promise<void> {
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const perRow = (seconds: number) => us((seconds * 1e6) / N);
  type Batch = { topic: string; partition: number; messages: KafkaMessage[] };
  // 1. KafkaJS: fetch, decode, CRC — with the ledger's fetch settings, doing nothing with the rows.
  const fetches: Batch[][] = [];
  let open: Batch[] | undefined;
  let rows = 0;
  const consumer = kafka.consumer({
    groupId: `${prefix}stages`,
    maxWaitTimeInMs: 500,
    minBytes: 16 * 1024 * 1024,
    maxBytesPerPartition: 16 * 1024 * 1024,
    maxBytes: 64 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.enriched, fromBeginning: true });
  // From the group join on: connecting and joining are a start-up cost, not a per-row one.
  let c0 = cpu();
  consumer.on(consumer.events.GROUP_JOIN, () => {
    c0 = cpu();
  });
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 64,
      eachBatch: async ({ batch }) => {
        if (!open) {
          open = [];
          fetches.push(open);
          setImmediate(() => {
            open = undefined;
          });
        }
        open.push({ topic: batch.topic, partition: batch.partition, messages: batch.messages });
        for (const m of batch.messages) rows += m.value ? (m.value.length > 0 ? countLines(m.value) : 0) : 0;
        if (rows >= N) resolve();
      },
    });
  });
  const consumed = cpu() - c0;
  await consumer.disconnect();
  console.log(
    `  KafkaJS fetch + decode + CRC (ledger's fetch sizes)      ${perRow(consumed)} µs/row  (${fetches.length} fetches)`,
  );

  // 2a. The row assembly as it was before this change: every row a string, positions spliced in text.
  const s0 = cpu();
  for (const fetch of fetches) {
    let body = '';
    const hash = createHash('sha256');
    for (const b of fetch) {
      for (const m of b.messages) {
        const position = `,${JSON.stringify(b.topic)},${b.partition},${m.offset},`;
        const lines = unpackRows(m.value!);
        for (let r = 0; r < lines.length; r++) {
          const line = lines[r]!;
          body += `${line.slice(0, line.lastIndexOf(']'))}${position}${r}]\n`;
          hash.update(`${m.offset}:${r},`);
        }
      }
    }
    hash.digest('hex');
    Buffer.from(body);
  }
  const strings = cpu() - s0;
  console.log(`  row assembly as strings + per-row token (before)         ${perRow(strings)} µs/row`);
  // 2b. As now: the body built from the message bytes, one range token.
  const b0 = cpu();
  // As the ledger does, each body reuses the previous one's buffer; the bytes are copied out here
  // only because this benchmark keeps every body for the insert stages below (not counted).
  let spare: Buffer | undefined;
  let copying = 0;
  const bodies = fetches.map((fetch) => {
    const body = buildInsertBody(fetch, undefined, spare);
    spare = body.buffer;
    const token = bodyToken(fetch, body);
    const c = cpu();
    const bytes = Buffer.from(body.bytes);
    copying += cpu() - c;
    return { body: { ...body, bytes }, token };
  });
  const built = cpu() - b0 - copying;
  console.log(`  row assembly from the bytes + range token (now)          ${perRow(built)} µs/row`);

  // 3. The inserts into chDB in this process (facts + rollup views), then its merges settling.
  const ch = createClickHouseClient({ kind: 'embedded', path: mkdtempSync(join(tmpdir(), 'bench-peer-')) });
  await migrate(ch, 'stages');
  await migrate(ch, 'parse');
  await ch.command({ query: 'DROP TABLE parse.usage_events SYNC' });
  await ch.command({ query: 'CREATE TABLE parse.usage_events AS stages.usage_events ENGINE = Null' });
  const guard = new ReplayGuard(ch, 'stages');
  const g0 = cpu();
  for (let p = 0; p < 4; p++) await guard.present('usage_events', topics.enriched, p, 0n);
  const guarded = cpu() - g0;
  console.log(`  replay guard: one query per partition at start           ${perRow(guarded)} µs/row`);
  let lastThreads = '';
  const insert = async (database: string, extra: Record<string, number> = {}) => {
    const t0 = threadCpu(process.pid);
    const i0 = cpu();
    for (const { body, token } of bodies) {
      await insertLines(ch, {
        table: `${database}.usage_events`,
        columns: COLUMNS,
        format: 'JSONCompactEachRow',
        bytes: body.bytes,
        settings: { insert_deduplication_token: token, ...extra },
      });
    }
    const spent = cpu() - i0;
    lastThreads = [...threadCpu(process.pid)]
      .map(([name, seconds]) => [name, ((seconds - (t0.get(name) ?? 0)) * 1e6) / N] as const)
      .filter(([, perRow]) => perRow >= 0.1)
      .map(([name, perRow]) => `${name} ${perRow.toFixed(1)}`)
      .join(', ');
    return spent;
  };
  const parsed = await insert('parse', { input_format_parallel_parsing: 1 });
  console.log(`  ClickHouse parse only (Null engine), parallel parsing    ${perRow(parsed)} µs/row`);
  const serial = await insert('parse', {
    input_format_parallel_parsing: 0,
    max_threads: 1,
    max_insert_threads: 1,
  });
  console.log(`  ClickHouse parse only (Null engine), one parsing thread  ${perRow(serial)} µs/row`);
  console.log(`    by thread: ${lastThreads}`);
  const stored = await insert('stages', {
    input_format_parallel_parsing: 0,
    max_threads: 1,
    max_insert_threads: 1,
  });
  console.log(
    `  ClickHouse insert: parse + facts + 2 rollup views        ${perRow(stored)} µs/row  (${bodies.length} inserts)`,
  );
  console.log(`    by thread: ${lastThreads}`);
  const m0 = cpu();
  const settled = await mergesSettle(ch);
  const merges = cpu() - m0;
  console.log(`  background merges until none runs (${settled} s)            ${perRow(merges)} µs/row`);
  await ch.close();
}

function countLines(value: Buffer): number {
  let n = 1;
  for (let i = value.indexOf(10); i !== -1; i = value.indexOf(10, i + 1)) n++;
  return n;
}

/** Waits (at most 30 s) until chDB has no merge running and none started for a second. */
async function mergesSettle(ch: ClickHouseClient): Promise<number> {
  const t0 = performance.now();
  let quiet = 0;
  while (quiet < 4 && performance.now() - t0 < 30_000) {
    const rs = await ch.query({ query: 'SELECT count() AS n FROM system.merges', format: 'JSONEachRow' });
    quiet = Number((await rs.json<{ n: string }>())[0]!.n) === 0 ? quiet + 1 : 0;
    await sleep(250);
  }
  return Math.round((performance.now() - t0) / 100) / 10;
}

async function main(): Promise<void> {
  await ensureTopics(kafka, topics, { partitions: 4, replicationFactor: 1 });
  const messages = await produceEnrichedRows(kafka, topics.enriched, N);
  console.log(`${N} enriched rows in ${messages} messages on ${topics.enriched}; ${ROUNDS} rounds\n`);
  const head = 'CPU µs per row: whole run / from ready / sustained; sustained rows/s';
  console.log(`round  consumer                               ${head}`);
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const engine = await engineRound(round);
    const ledger = await ledgerRound(round);
    for (const [name, r] of [
      ['Kafka engine + materialized view', engine],
      ['ledger (burnrate run: clickhouse,ledger)', ledger],
    ] as const) {
      console.log(
        `${String(round + 1).padEnd(6)} ${name.padEnd(40)} ${us(r.whole)} / ${us(r.ready)} / ${us(r.sustained)}; ${Math.round(r.rowsPerSecond)}`,
      );
      console.log(`${''.padEnd(7)}by thread, from ready: ${r.threads}`);
    }
    const ratio = ledger.ready / engine.ready;
    ratios.push(ratio);
    console.log(
      `       ratio ledger / engine: whole ${(ledger.whole / engine.whole).toFixed(2)}, from ready ${ratio.toFixed(2)}, sustained ${(ledger.sustained / engine.sustained).toFixed(2)} (target ≤ 1.5)`,
    );
  }
  console.log('\nThe ledger taken apart, stage by stage in this process, on the same rows:');
  await stages();
  process.exit(0);
}

await main();
