import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { type ClickHouseClient, createClickHouseClient } from '../src/clickhouse/client.js';
import { enrichedRow, pollUntil, uniquePrefix } from './fixtures.js';
import { exited, kill, logField, spawnBurnrate } from './process-harness.js';

// The clickhouse role (embedded engine) after its process died: before it serves anyone, rollups
// that missed part of an insert are rebuilt from the facts. A clean stop skips the check.
const dir = mkdtempSync(join(tmpdir(), 'burnrate-ch-repair-'));
const database = 'burnrate';
let running: ReturnType<typeof spawnBurnrate> | undefined;
let client: ClickHouseClient | undefined;
afterEach(async () => {
  await client?.close();
  if (running) await kill(running.child);
});

async function startOwner() {
  const run = spawnBurnrate({
    BURNRATE_ROLES: 'clickhouse',
    BURNRATE_DATA_DIR: join(dir, 'chdb'),
    CLICKHOUSE_HTTP_PORT: '0',
    CLICKHOUSE_DATABASE: database,
    KAFKA_BROKERS: inject('kafkaBrokers'),
    BURNRATE_TOPIC_PREFIX: uniquePrefix(),
  });
  running = run;
  const url = await pollUntil(
    async () => logField(run.output(), 'ClickHouse HTTP interface listening', 'url'),
    (u) => u !== undefined || run.child.exitCode !== null,
    60_000,
  );
  if (!url) throw new Error(`the clickhouse process did not listen:\n${run.output()}`);
  client = createClickHouseClient({ kind: 'server', url, username: 'default', password: '' });
  return { run, client };
}

const REPAIRED = 'some rollups had missed an insert';

async function periodShortBy(c: ClickHouseClient): Promise<number> {
  const rs = await c.query({
    query: `SELECT (SELECT count() FROM ${database}.usage_events) - (SELECT sum(events) FROM ${database}.customer_period_cost) AS d`,
    format: 'JSONEachRow',
  });
  return Number((await rs.json<{ d: string }>())[0]!.d);
}

describe('the clickhouse role after an unclean stop', () => {
  it('rebuilds a rollup that missed facts after SIGKILL, and not after a clean stop (negative control)', async () => {
    let { run, client: c } = await startOwner();
    const rows = Array.from({ length: 400 }, (_, i) =>
      enrichedRow(i, { customer_id: `cust-${i % 4}`, billing_period_start: '2026-11-01' }),
    );
    await c.insert({ table: `${database}.usage_events`, values: rows, format: 'JSONEachRow' });
    // As a process dying inside the insert can leave it: cust-1's period row never written.
    await c.command({
      query: `ALTER TABLE ${database}.customer_period_cost DELETE WHERE customer_id = 'cust-1' SETTINGS mutations_sync = 2`,
    });
    expect(await periodShortBy(c)).toBe(100);

    // Negative control: a clean stop leaves its marker, so the next start checks nothing.
    await client!.close();
    client = undefined;
    run.child.kill('SIGTERM');
    await exited(run.child);
    expect(run.child.exitCode).toBe(0);
    ({ run, client: c } = await startOwner());
    expect(await periodShortBy(c)).toBe(100);
    expect(run.output()).not.toContain(REPAIRED);

    // The process dies: the next start repairs before it listens.
    await client!.close();
    client = undefined;
    await kill(run.child);
    ({ run, client: c } = await startOwner());
    expect(run.output()).toContain(REPAIRED);
    expect(await periodShortBy(c)).toBe(0);
  });
});
