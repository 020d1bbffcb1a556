// The ledger's sink alone: fact rows, as the enricher builds them, inserted into ClickHouse (chDB) with
// the real schema (facts + rollup views), at several insert sizes. Baseline in the same run: the same
// rows into a Null-engine table (parsing only, nothing stored). CPU time covers every thread of this
// process, so it includes the embedded engine's own threads.
//   node --conditions=@burnrate/source --import tsx scripts/bench-sink.ts [rows]
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { CLICKHOUSE_SETTINGS, createClickHouseClient } from '../services/burnrate/src/clickhouse/client.js';
import { migrate } from '../services/burnrate/src/clickhouse/migrate.js';
import { FACT_COLUMNS, KAFKA_POSITION_COLUMNS } from '../services/burnrate/src/facts/columns.js';
import { insertRows, type SinkRow } from '../services/burnrate/src/roles/ledger/sink.js';
import { benchEnrichedRows } from './bench-process.js';

const N = Number(process.argv[2] ?? 100_000);
const rows: SinkRow[] = benchEnrichedRows(N).map(({ value }, i) => ({
  topic: 'usage.enriched',
  partition: 0,
  offset: BigInt(i),
  row: 0,
  json: `${value.slice(0, -1)},"usage.enriched",0,${i},0]`,
}));
const bytes = rows.reduce((s, r) => s + r.json.length + 1, 0);
console.log(`${N} rows, ${Math.round(bytes / N)} bytes per row as JSONCompactEachRow`);

const path = mkdtempSync(join(tmpdir(), 'bench-sink-'));
const ch = createClickHouseClient({ kind: 'embedded', path });
// How the client was built before: settings on the client, which chDB sends as a `SET …;` prefix.
const { createChdbConnection } = createRequire(import.meta.url)(
  'chdb/connection',
) as typeof import('chdb/connection');
const withPrefix = createClient({
  clickhouse_settings: { ...CLICKHOUSE_SETTINGS },
  connection: createChdbConnection({ path }) as unknown as NonNullable<
    Parameters<typeof createClient>[0]
  >['connection'],
});
const columns = [...FACT_COLUMNS, ...KAFKA_POSITION_COLUMNS];
let run = 0;

async function measure(
  label: string,
  perInsert: number,
  nullEngine: boolean,
  client: ClickHouseClient = ch,
): Promise<number> {
  const database = `bench_sink_${run++}`;
  await migrate(ch, database);
  const table = `${database}.${nullEngine ? 'parse_only' : 'usage_events'}`;
  if (nullEngine)
    await ch.command({ query: `CREATE TABLE ${table} AS ${database}.usage_events ENGINE = Null` });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i += perInsert)
    await insertRows(client, table, columns, rows.slice(i, i + perInsert), `${database}/${i}`);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const perRow = (cpu.user + cpu.system) / N;
  console.log(
    `${label.padEnd(48)} ${String(Math.round(N / seconds)).padStart(7)} rows/s  ${perRow.toFixed(1)} µs CPU per row`,
  );
  return perRow;
}

const baseline = await measure('baseline: parse only (Null engine), 10,000 per insert', 10_000, true);
for (const perInsert of [2_000, 10_000, 50_000]) {
  const perRow = await measure(
    `facts + rollup views, ${perInsert.toLocaleString('en')} per insert`,
    perInsert,
    false,
  );
  console.log(`${''.padEnd(48)} ${(perRow / baseline).toFixed(2)} × the parse-only CPU`);
}
const prefixed = await measure('facts + views, 10,000 per insert, SET prefix', 10_000, false, withPrefix);
console.log(`${''.padEnd(48)} ${(prefixed / baseline).toFixed(2)} × the parse-only CPU`);
await withPrefix.close();
await ch.close();
process.exit(0);
