import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliOutput } from '../src/cli/kit/output.js';
import { runCliToExitCode } from '../src/cli/run-cli.js';
import { createClickHouseHttpServer } from '../src/clickhouse/http/index.js';
import { migrate } from '../src/clickhouse/migrate.js';
import { repairRollups } from '../src/clickhouse/rollup-repair.js';
import { enrichedRow, silentLogger, testClickHouse } from './fixtures.js';

// A ClickHouse process that dies inside an insert can leave facts stored and a rollup without them
// (each table's part is written on its own); the ledger's replay then rightly skips those facts.
// Simulated here by taking rows out of one rollup after the insert, as the crash leaves it.
let ch: Awaited<ReturnType<typeof testClickHouse>>;
beforeAll(async () => {
  ch = await testClickHouse();
});
afterAll(() => ch.client.close());

const BASE_MS = Date.UTC(2026, 10, 2, 0, 0, 0);

async function setUp() {
  const db = `rr_${randomUUID().slice(0, 8)}`;
  await migrate(ch.client, db);
  const rows = Array.from({ length: 600 }, (_, i) =>
    enrichedRow(i, {
      occurred_at: BASE_MS + i * 60_000,
      customer_id: `cust-${i % 4}`,
      billing_period_start: '2026-11-01',
    }),
  );
  await ch.client.insert({ table: `${db}.usage_events`, values: rows, format: 'JSONEachRow' });
  return db;
}

const q = async <T>(query: string) => (await ch.client.query({ query, format: 'JSONEachRow' })).json<T>();

/** Per customer: facts, usage_hourly and customer_period_cost events and cost, as strings. */
async function totals(db: string) {
  const [row] = await q<{ facts: string; hourly: string; period: string }>(
    `SELECT
       (SELECT toString(groupArray((customer_id, n, c))) FROM (SELECT customer_id, count() n, sum(cost_total_nanos) c FROM ${db}.usage_events GROUP BY customer_id ORDER BY customer_id)) AS facts,
       (SELECT toString(groupArray((customer_id, n, c))) FROM (SELECT customer_id, sum(events) n, sum(cost_total_nanos) c FROM ${db}.usage_hourly GROUP BY customer_id ORDER BY customer_id)) AS hourly,
       (SELECT toString(groupArray((customer_id, n, c))) FROM (SELECT customer_id, sum(events) n, sum(cost_total_nanos) c FROM ${db}.customer_period_cost GROUP BY customer_id ORDER BY customer_id)) AS period`,
  );
  return row!;
}

describe('repairRollups', () => {
  it('finds nothing to do when the rollups agree with the facts', async () => {
    const db = await setUp();
    expect(await repairRollups(ch.client, db, { rebuildId: 'a' })).toEqual({ hourKeys: 0, periodKeys: 0 });
    const t = await totals(db);
    expect(t.hourly).toBe(t.facts);
    expect(t.period).toBe(t.facts);
  });

  it('rebuilds exactly the keys a cut insert left short, in both rollups, from the facts', async () => {
    const db = await setUp();
    // As a crash leaves it: cust-1's period row and two of cust-2's hours never written.
    await ch.client.command({
      query: `ALTER TABLE ${db}.customer_period_cost DELETE WHERE customer_id = 'cust-1' SETTINGS mutations_sync = 2`,
    });
    await ch.client.command({
      query: `ALTER TABLE ${db}.usage_hourly DELETE WHERE customer_id = 'cust-2' AND hour < toDateTime('2026-11-02 02:00:00', 'UTC') SETTINGS mutations_sync = 2`,
    });
    const broken = await totals(db);
    // Negative control: the rollups are short until repaired.
    expect(broken.period).not.toBe(broken.facts);
    expect(broken.hourly).not.toBe(broken.facts);

    expect(await repairRollups(ch.client, db, { rebuildId: 'b' })).toEqual({ hourKeys: 2, periodKeys: 1 });
    const repaired = await totals(db);
    expect(repaired.hourly).toBe(repaired.facts);
    expect(repaired.period).toBe(repaired.facts);
    // Nothing is left to do, and repeating it changes nothing.
    expect(await repairRollups(ch.client, db, { rebuildId: 'c' })).toEqual({ hourKeys: 0, periodKeys: 0 });
    expect(await totals(db)).toEqual(repaired);
  });
});

describe('burnrate rollups repair', () => {
  it('repairs through the ClickHouse HTTP interface and says what it rebuilt; refuses a bad --window', async () => {
    const db = await setUp();
    const http = createClickHouseHttpServer({
      client: ch.client,
      host: '127.0.0.1',
      port: 0,
      defaultDatabase: db,
      users: [{ name: 'default', password: '', readonly: false }],
      logger: silentLogger,
    });
    const { url } = await http.start();
    try {
      await ch.client.command({
        query: `ALTER TABLE ${db}.customer_period_cost DELETE WHERE customer_id = 'cust-0' SETTINGS mutations_sync = 2`,
      });
      const cli = async (args: string[]) => {
        const out: string[] = [];
        const err: string[] = [];
        const output: CliOutput = { out: (x) => out.push(x), err: (x) => err.push(x), interactive: false };
        const env = { CLICKHOUSE_URL: url, CLICKHOUSE_DATABASE: db };
        const code = await runCliToExitCode(
          ['rollups', 'repair', ...args],
          { onSignal: () => {}, env },
          output,
        );
        return { code, out: out.join(''), err: err.join('') };
      };
      expect(await cli(['--window', '0'])).toMatchObject({
        code: 2,
        err: expect.stringContaining('--window'),
      });
      expect(await cli([])).toEqual({
        code: 0,
        out: 'rebuilt from the facts: 0 usage_hourly keys, 1 customer_period_cost keys\n',
        err: '',
      });
      expect(await cli([])).toMatchObject({
        code: 0,
        out: 'rollups agree with the facts: nothing to rebuild\n',
      });
    } finally {
      await http.stop();
    }
  });
});
