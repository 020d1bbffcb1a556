// The capacity model behind docs/capacity.md: pure functions from the inputs table (parsed from the
// doc itself) to the derived tables. scripts/capacity.ts does the I/O.

/** Every input the model reads, each a low (optimistic) and high (pessimistic) value. */
export const INPUT_KEYS = [
  'enricher_us',
  'ledger_us',
  'clickhouse_us',
  'aggregator_us',
  'broker_us',
  'redis_dedup_us',
  'redis_agg_us',
  'event_bytes',
  'row_bytes',
  'record_overhead_bytes',
  'redis_agg_ops',
  'dedup_window_s',
  'dedup_bytes_per_id',
  'utilisation',
  'replication_factor',
  'broker_rf_cpu_factor',
  'retention_h',
  'ledger_min_batch_bytes',
  'ledger_max_fetch_bytes',
  'dedup_chunk',
  'worker_cores',
  'broker_cores',
  'broker_nic_gbit',
  'broker_disk_mb_s',
  'clickhouse_cores',
  'redis_per_host',
] as const;
export type InputKey = (typeof INPUT_KEYS)[number];
export type Inputs = Record<InputKey, { low: number; high: number }>;
/** One end of the range: every input at its low or at its high value. */
type End = Record<InputKey, number>;

export const RATES = [100_000, 1_000_000, 10_000_000];

/**
 * Reads the inputs table: rows `| \`key\` | what | low | high | unit | source |`. Numbers may carry
 * thousands separators; every key must appear once, and low ≤ high.
 */
export function parseInputs(markdown: string): Inputs {
  const found: Partial<Inputs> = {};
  for (const line of markdown.split('\n')) {
    const m = /^\|\s*`([a-z_]+)`\s*\|[^|]*\|\s*([\d.,]+)\s*\|\s*([\d.,]+)\s*\|/.exec(line);
    if (!m) continue;
    const key = m[1] as InputKey;
    if (!INPUT_KEYS.includes(key)) throw new Error(`docs/capacity.md: unknown input \`${key}\``);
    if (found[key]) throw new Error(`docs/capacity.md: input \`${key}\` appears twice`);
    const low = Number(m[2]!.replaceAll(',', ''));
    const high = Number(m[3]!.replaceAll(',', ''));
    if (!(low > 0) || !(high >= low))
      throw new Error(`docs/capacity.md: input \`${key}\` needs 0 < low ≤ high`);
    found[key] = { low, high };
  }
  const missing = INPUT_KEYS.filter((k) => !found[k]);
  if (missing.length > 0) throw new Error(`docs/capacity.md: inputs missing: ${missing.join(', ')}`);
  return found as Inputs;
}

function end(inputs: Inputs, which: 'low' | 'high'): End {
  return Object.fromEntries(INPUT_KEYS.map((k) => [k, inputs[k][which]])) as End;
}

/** Cores busy at `rate` for `us` µs of CPU per event. */
const cores = (rate: number, us: number) => (rate * us) / 1e6;
/** Units of `perUnit` capacity needed for `load`, each run at the target utilisation. */
const units = (load: number, perUnit: number, e: End) =>
  Math.max(1, Math.ceil(load / (perUnit * e.utilisation)));

/** Everything derived for one rate at one end of the ranges. */
export function derive(rate: number, e: End) {
  const enricher = units(cores(rate, e.enricher_us), 1, e);
  const ledger = units(cores(rate, e.ledger_us), 1, e);
  const aggregator = units(cores(rate, e.aggregator_us), 1, e);
  const partitions = 2 * Math.max(enricher, ledger, aggregator);
  // Bytes per event on the topics: one Avro record on usage.events, one newline-separated row in a
  // packed usage.enriched record (≤ 256 KiB per record, so its record overhead is negligible).
  const eventWire = e.event_bytes + e.record_overhead_bytes;
  const rowWire = e.row_bytes + 1;
  const produced = rate * (eventWire + rowWire);
  const replication = produced * (e.replication_factor - 1);
  const consumed = rate * (eventWire + 2 * rowWire); // enricher; ledger and aggregator
  const diskWrite = produced * e.replication_factor;
  const netIn = produced + replication;
  const netOut = consumed + replication;
  const brokerCores = cores(rate, e.broker_us * e.broker_rf_cpu_factor);
  const nic = (e.broker_nic_gbit * 1e9) / 8;
  const byCpu = units(brokerCores, e.broker_cores, e);
  const byNet = units(Math.max(netIn, netOut), nic, e);
  const byDisk = units(diskWrite, e.broker_disk_mb_s * 1e6, e);
  const brokers = Math.max(e.replication_factor, byCpu, byNet, byDisk);
  const chCores = cores(rate, e.clickhouse_us);
  const chHosts = units(chCores, e.clickhouse_cores, e);
  // One insert per fetch: at least LEDGER_MIN_BATCH_BYTES once the ledger is busy, at most the fetch limit.
  const rowsMin = Math.floor(e.ledger_min_batch_bytes / rowWire);
  const rowsMax = Math.floor(e.ledger_max_fetch_bytes / rowWire);
  const dedupCores = cores(rate, e.redis_dedup_us);
  const aggCores = cores(rate, e.redis_agg_us);
  const dedupRedis = units(dedupCores, 1, e);
  const aggRedis = units(aggCores, 1, e);
  return {
    enricher,
    ledger,
    aggregator,
    partitions,
    workerHosts: Math.ceil((enricher + ledger + aggregator) / e.worker_cores),
    workerCores: cores(rate, e.enricher_us + e.ledger_us + e.aggregator_us),
    produced,
    replication,
    consumed,
    diskWrite,
    netIn,
    netOut,
    brokerCores,
    byCpu,
    byNet,
    byDisk,
    brokers,
    perBrokerIn: netIn / brokers,
    perBrokerOut: netOut / brokers,
    perBrokerDisk: diskWrite / brokers,
    retained: diskWrite * e.retention_h * 3600,
    replicasPerBroker: Math.ceil((2 * partitions * e.replication_factor) / brokers),
    chCores,
    chHosts,
    chNetIn: rate * rowWire,
    rowsMin,
    rowsMax,
    insertsMax: rate / rowsMin,
    insertsMin: rate / rowsMax,
    insertsPerLedgerMax: rate / rowsMin / ledger,
    partsPerHostMax: (3 * rate) / rowsMin / chHosts,
    partsPerHostMin: (3 * rate) / rowsMax / chHosts,
    dedupCores,
    aggCores,
    dedupRedis,
    aggRedis,
    redisHosts: Math.ceil((dedupRedis + aggRedis) / e.redis_per_host),
    dedupCalls: rate / e.dedup_chunk,
    aggOps: rate * e.redis_agg_ops,
    dedupMemory: rate * e.dedup_window_s * e.dedup_bytes_per_id,
  };
}
type Derived = ReturnType<typeof derive>;

/** What one instance (one Node process, single-threaded) or one server sustains. */
export function ceilings(e: End) {
  const perCore = (us: number) => 1e6 / us;
  return {
    enricher: perCore(e.enricher_us),
    ledger: perCore(e.ledger_us),
    aggregator: perCore(e.aggregator_us),
    dedupRedis: perCore(e.redis_dedup_us),
    aggRedis: perCore(e.redis_agg_us),
    clickhouseHost: perCore(e.clickhouse_us) * e.clickhouse_cores,
  };
}

// ---------- rendering ----------

type Fmt = (n: number) => string;
const int: Fmt = (n) => Math.round(n).toLocaleString('en-US');
/** One decimal below 100, whole numbers above. */
const one: Fmt = (n) => (n >= 100 ? int(n) : n.toLocaleString('en-US', { maximumFractionDigits: 1 }));
const mb: Fmt = (bytesPerSecond) => one(bytesPerSecond / 1e6);
const gb: Fmt = (bytes) => one(bytes / 1e9);
const tb: Fmt = (bytes) => one(bytes / 1e12);
const rateName = (r: number) => (r >= 1e6 ? `${r / 1e6}M` : `${r / 1e3}k`);

/** "a–b", smaller first; "a" when both ends render alike. */
function span(a: number, b: number, fmt: Fmt): string {
  const [x, y] = a <= b ? [fmt(a), fmt(b)] : [fmt(b), fmt(a)];
  return x === y ? x : `${x}–${y}`;
}

/** A markdown table with padded columns (as the repository's formatter writes them). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, 3, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

/** The derived section of docs/capacity.md. */
export function render(inputs: Inputs): string {
  const lo = end(inputs, 'low');
  const hi = end(inputs, 'high');
  const d = RATES.map((rate) => ({ rate, low: derive(rate, lo), high: derive(rate, hi) }));
  /** One row: per rate, the value at both ends (or several values, joined by " / "). */
  const row = (
    label: string,
    f: (x: Derived, rate: number) => number | number[],
    fmt: Fmt = int,
    bold = false,
  ) => [
    bold ? `**${label}**` : label,
    ...d.map(({ rate, low, high }) => {
      const [a, b] = [[f(low, rate)].flat(), [f(high, rate)].flat()];
      const cell = a.map((v, i) => span(v, b[i]!, fmt)).join(' / ');
      return bold ? `**${cell}**` : cell;
    }),
  ];
  const head = ['', ...RATES.map((r) => `${rateName(r)} events/s`)];
  const cl = ceilings(lo);
  const ch = ceilings(hi);
  const u = lo.utilisation;
  const pct = `${Math.round(u * 100)} %`;
  const ceil = (label: string, key: InputKey, c: keyof typeof cl) => [
    label,
    span(lo[key], hi[key], one),
    span(cl[c], ch[c], int),
    span(cl[c] * u, ch[c] * u, int),
  ];
  return [
    '### 1. One instance: the single-threaded ceiling',
    '',
    'A consumer instance is one Node process; its JavaScript runs on one thread, so it handles at most',
    '1,000,000 / (µs per event) events per second, whatever the host has. Kafka gives each partition to',
    'one member of a group, so a topic needs at least as many partitions as the instances that share it.',
    '',
    table(
      ['instance', 'µs CPU per event', 'events/s at 100 % of one core', `events/s at ${pct}`],
      [
        ceil('enricher', 'enricher_us', 'enricher'),
        ceil('ledger', 'ledger_us', 'ledger'),
        ceil('aggregator', 'aggregator_us', 'aggregator'),
        ceil('Redis for dedup (single-threaded)', 'redis_dedup_us', 'dedupRedis'),
        ceil('Redis for the aggregates (single-threaded)', 'redis_agg_us', 'aggRedis'),
        ceil(`ClickHouse host (${lo.clickhouse_cores} cores; µs per row)`, 'clickhouse_us', 'clickhouseHost'),
      ],
    ),
    '',
    '### 2. Instances and partitions',
    '',
    table(head, [
      row('enricher instances (≥ partitions of `usage.events`)', (x) => x.enricher),
      row('ledger instances', (x) => x.ledger),
      row('aggregator instances', (x) => x.aggregator),
      row('`KAFKA_TOPIC_PARTITIONS` (2 × the largest group)', (x) => x.partitions),
      row('worker cores busy (enricher + ledger + aggregator)', (x) => x.workerCores, one),
      row(`worker hosts (${lo.worker_cores} cores, one instance per core)`, (x) => x.workerHosts, int, true),
    ]),
    '',
    `### 3. Kafka (replication factor ${lo.replication_factor})`,
    '',
    table(head, [
      row('produced, MB/s (events + enriched rows)', (x) => x.produced, mb),
      row('replication between brokers, MB/s', (x) => x.replication, mb),
      row('read by the enricher, ledger and aggregator, MB/s', (x) => x.consumed, mb),
      row('written to disk, all replicas, MB/s', (x) => x.diskWrite, mb),
      row(`kept for ${lo.retention_h} h, all replicas, TB`, (x) => x.retained, tb),
      row('broker CPU cores busy', (x) => x.brokerCores, one),
      row('brokers needed for CPU / network / disk', (x) => [x.byCpu, x.byNet, x.byDisk]),
      row('brokers', (x) => x.brokers, int, true),
      row('per broker: network in / out, MB/s', (x) => [x.perBrokerIn, x.perBrokerOut], mb),
      row('per broker: disk write, MB/s', (x) => x.perBrokerDisk, mb),
      row('partition replicas per broker (both topics)', (x) => x.replicasPerBroker),
    ]),
    '',
    '### 4. ClickHouse',
    '',
    table(head, [
      row('rows inserted per second', (_, rate) => rate),
      row('CPU cores busy inserting (facts + rollup views)', (x) => x.chCores, one),
      row(`hosts (${lo.clickhouse_cores} cores)`, (x) => x.chHosts, int, true),
      row('rows sent by the ledgers, MB/s (uncompressed)', (x) => x.chNetIn, mb),
      row('rows per insert, smallest (`LEDGER_MIN_BATCH_BYTES`)', (x) => x.rowsMin),
      row('rows per insert, largest (fetch limit)', (x) => x.rowsMax),
      row('inserts per second, all ledgers, smallest inserts', (x) => x.insertsMax, one),
      row('inserts per second, all ledgers, largest inserts', (x) => x.insertsMin, one),
      row('inserts per second per ledger instance, at most', (x) => x.insertsPerLedgerMax, one),
      row('new parts per second per host (3 tables), smallest inserts', (x) => x.partsPerHostMax, one),
      row('new parts per second per host (3 tables), largest inserts', (x) => x.partsPerHostMin, one),
    ]),
    '',
    '### 5. Redis',
    '',
    table(head, [
      row('dedup: `SET NX EX` per second (one per event)', (_, rate) => rate),
      row('dedup: script calls per second', (x) => x.dedupCalls),
      row('dedup: cores busy', (x) => x.dedupCores, one),
      row('dedup: instances', (x) => x.dedupRedis),
      row('dedup: memory, GB (rate × window × bytes per id)', (x) => x.dedupMemory, gb),
      row('aggregates: operations per second', (x) => x.aggOps),
      row('aggregates: cores busy', (x) => x.aggCores, one),
      row('aggregates: instances', (x) => x.aggRedis),
      row(`hosts (${lo.redis_per_host} instances each)`, (x) => x.redisHosts, int, true),
    ]),
    '',
    '### 6. Machines',
    '',
    table(head, [
      row('worker hosts (enricher, ledger, aggregator)', (x) => x.workerHosts),
      row('Kafka brokers', (x) => x.brokers),
      row('ClickHouse hosts', (x) => x.chHosts),
      row('Redis hosts', (x) => x.redisHosts),
      row('total', (x) => x.workerHosts + x.brokers + x.chHosts + x.redisHosts, int, true),
    ]),
    '',
    '### 7. What this build reaches without code changes',
    '',
    'Workers and brokers scale out by partition. Three things do not, today: one Redis serves all',
    'event_id deduplication (a resent event must meet the same Redis whichever enricher owns its',
    'partition), one Redis the aggregates (the aggregator, notifier and api share it; the Lua scripts',
    'touch many keys at once, so they cannot run on Redis Cluster as written), and one ClickHouse',
    'server holds the tables (no `Distributed` table). The enrichers can point `REDIS_URL` at a',
    'Redis of their own, apart from the aggregator’s. Each single server’s ceiling:',
    '',
    table(
      ['single server', `events/s at ${pct}`, 'events/s at 100 %'],
      [
        [
          'Redis for dedup',
          span(cl.dedupRedis * u, ch.dedupRedis * u, int),
          span(cl.dedupRedis, ch.dedupRedis, int),
        ],
        [
          'Redis for the aggregates',
          span(cl.aggRedis * u, ch.aggRedis * u, int),
          span(cl.aggRedis, ch.aggRedis, int),
        ],
        [
          `ClickHouse (${lo.clickhouse_cores} cores)`,
          span(cl.clickhouseHost * u, ch.clickhouseHost * u, int),
          span(cl.clickhouseHost, ch.clickhouseHost, int),
        ],
      ],
    ),
  ].join('\n');
}
