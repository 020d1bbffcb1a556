// The ledger's sink alone: fact rows (as the enricher builds them) inserted into ClickHouse (chDB by
// default) in batches, with the real schema (facts + rollup views). CPU time covers every thread of
// this process, so it includes the embedded engine's own threads.
//   node --conditions=@burnrate/source --import tsx scripts/bench-sink.ts [rows] [rowsPerInsert]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeUsageEvent } from '@burnrate/core';
import { pino } from 'pino';
import { createClickHouseClient } from '../services/burnrate/src/clickhouse/client.js';
import { migrate } from '../services/burnrate/src/clickhouse/migrate.js';
import { FACT_COLUMNS, KAFKA_POSITION_COLUMNS } from '../services/burnrate/src/facts/columns.js';
import { createKafka } from '../services/burnrate/src/kafka/client.js';
import { createReferenceData } from '../services/burnrate/src/roles/enricher/reference-data.js';
import { insertRows, type SinkRow } from '../services/burnrate/src/roles/ledger/sink.js';
import { benchEvent } from './bench-events.js';

const N = Number(process.argv[2] ?? 200_000);
const PER_INSERT = Number(process.argv[3] ?? 10_000);
const logger = pino({ level: 'warn' });
const kafka = createKafka({ brokers: ['127.0.0.1:1'], clientId: 'bench-sink', logger });
const stage = createReferenceData({ kafka, topic: 'unused', pricesFile: undefined, logger }).stage({
  lateHorizonMs: 86_400_000,
  maxFutureSkewMs: 300_000,
});

const rows: SinkRow[] = [];
for (let i = 0; i < N; i++) {
  const event = stage.decode(encodeUsageEvent(benchEvent(i)));
  const fact = stage.enrich(event, {
    topic: 'usage.events',
    partition: i % 4,
    offset: String(i),
    ingestedAtMs: Date.now(),
  });
  rows.push({
    topic: 'usage.enriched',
    partition: 0,
    offset: BigInt(i),
    json: `${fact.row.slice(0, -1)},"usage.enriched",0,${i}]`,
  });
}
const bytes = rows.reduce((s, r) => s + r.json.length + 1, 0);
console.log(
  `${N} rows, ${Math.round(bytes / N)} bytes per row as JSONCompactEachRow, ${PER_INSERT} rows per insert`,
);

async function run(label: string, setup: string[]): Promise<number> {
  const ch = createClickHouseClient({ kind: 'embedded', path: mkdtempSync(join(tmpdir(), 'bench-sink-')) });
  await migrate(ch, 'bench');
  for (const q of setup) await ch.command({ query: q });
  const columns = [...FACT_COLUMNS, ...KAFKA_POSITION_COLUMNS];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i += PER_INSERT)
    await insertRows(ch, 'bench.usage_events', columns, rows.slice(i, i + PER_INSERT), `t/${i}`);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await ch.close();
  const rate = N / seconds;
  console.log(
    `${label}: ${Math.round(rate)} rows/s, CPU ${((cpu.user + cpu.system) / N).toFixed(1)} µs per row`,
  );
  return rate;
}

await run('facts + rollup views', []);
await run('facts only', ['DROP VIEW bench.usage_hourly_mv', 'DROP VIEW bench.customer_period_cost_mv']);
process.exit(0);
