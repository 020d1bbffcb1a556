import { BurnrateError } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import { exec, select } from './sql.js';
import type { RepriceSummary } from './tally.js';

/**
 * reprice_runs: a `started` row before a run writes anything and a `finished` row once its facts are
 * mutated and its rollups rebuilt and verified. A run with no `finished` row was interrupted.
 */
export async function recordRun(
  client: ClickHouseClient,
  database: string,
  status: 'started' | 'finished',
  atMs: number,
  s: RepriceSummary,
): Promise<void> {
  const t = s.tally;
  const row = {
    run_id: s.runId,
    status,
    at: atMs,
    range_from: s.filter.fromMs,
    range_to: s.filter.toMs,
    model: s.filter.model ?? '',
    provider: s.filter.provider ?? '',
    customer_id: s.filter.customerId ?? '',
    price_catalog_version: s.priceCatalogVersion,
    overrides_version: s.overridesVersion,
    scanned: t.scanned,
    changed: t.changed,
    failed: t.failed,
    unpriced_before: t.unpricedBefore,
    unpriced_after: t.unpricedAfter,
    cost_before_nanos: t.costBeforeNanos.toString(),
    cost_after_nanos: t.costAfterNanos.toString(),
    recovered_runs: s.recoveredRuns,
  };
  await exec(
    client,
    `INSERT INTO ${database}.reprice_runs FORMAT JSONEachRow\n${JSON.stringify(row)}\n`,
    `recording run ${s.runId} as ${status}`,
  );
}

/**
 * Runs that started but never finished, nor were recovered by a later run. Their logged changes may
 * be applied to the facts while the rollups still hold the old costs.
 */
export async function unfinishedRuns(client: ClickHouseClient, database: string): Promise<string[]> {
  const rows = await select<{ run_id: string }>(
    client,
    `SELECT run_id FROM ${database}.reprice_runs
     WHERE run_id NOT IN (SELECT arrayJoin(recovered_runs) FROM ${database}.reprice_runs)
     GROUP BY run_id HAVING countIf(status = 'finished') = 0 ORDER BY min(at)`,
    'looking for interrupted re-pricing runs',
  );
  return rows.map((r) => r.run_id);
}

/**
 * Waits until no mutation of usage_events is pending. An interrupted run's mutation carries on in the
 * server (or resumes when chDB reopens the directory); its rollups must be rebuilt after it lands.
 */
export async function waitForFactMutations(
  client: ClickHouseClient,
  database: string,
  options: { timeoutMs: number; pollMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const [row] = await select<{ n: string }>(
      client,
      `SELECT count() AS n FROM system.mutations WHERE database = {db:String} AND table = 'usage_events' AND NOT is_done`,
      'checking pending mutations',
      { db: database },
    );
    if (Number(row?.n ?? 0) === 0) return;
    if (Date.now() >= deadline) {
      throw new BurnrateError(
        'clickhouse_mutation_pending',
        `${row?.n} mutation(s) of ${database}.usage_events are still running after ${options.timeoutMs} ms; see system.mutations.`,
        { retriable: true, field: 'system.mutations' },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}
