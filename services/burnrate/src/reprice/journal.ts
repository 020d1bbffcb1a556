import { BurnrateError } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import type { FactFilter } from './options.js';
import { COST_COLUMNS, type FactPricing, type FactRow } from './price-fact.js';
import { exec, msLiteral, select, uuidLiteral } from './sql.js';

/** One fact whose pricing changes. */
export interface FactChange {
  row: FactRow;
  before: FactPricing;
  after: FactPricing;
}

export interface BatchRef {
  runId: string;
  batch: number;
}

function logLine(ref: BatchRef, repricedAtMs: number, { row, before, after }: FactChange): string {
  const line: Record<string, string | number> = {
    run_id: ref.runId,
    repriced_at: repricedAtMs,
    apply_batch: ref.batch,
    event_id: row.event_id,
    occurred_at: Number(row.occurred_at_ms),
    billing_period_start: row.billing_period_start,
    customer_id: row.customer_id,
    provider: row.provider,
    model: row.model,
    old_price_version: before.price_version,
    new_price_version: after.price_version,
    old_unpriced: before.unpriced,
    new_unpriced: after.unpriced,
    old_byok: before.byok,
    new_byok: after.byok,
  };
  // Int64 as decimal text: ClickHouse reads it exactly, JSON numbers would not survive past 2^53.
  for (const column of COST_COLUMNS) {
    line[`old_${column}`] = before[column].toString();
    line[`new_${column}`] = after[column].toString();
  }
  return JSON.stringify(line);
}

/**
 * Appends changes to reprice_log. This happens before the facts are mutated, so a fact never loses
 * its previous price_version: at worst (a crash in between) the log holds a change that was never
 * applied, which the next run finds again and logs again.
 */
export async function logChanges(
  client: ClickHouseClient,
  database: string,
  ref: BatchRef,
  repricedAtMs: number,
  changes: readonly FactChange[],
): Promise<void> {
  if (changes.length === 0) return;
  const body = changes.map((change) => logLine(ref, repricedAtMs, change)).join('\n');
  // reprice_log has no deduplication window, so identical rows of two runs are both kept, as they should be.
  await exec(
    client,
    `INSERT INTO ${database}.reprice_log FORMAT JSONEachRow\n${body}\n`,
    `an insert of ${changes.length} rows into ${database}.reprice_log`,
  );
}

const SET_COLUMNS = [...COST_COLUMNS, 'price_version', 'unpriced', 'byok'] as const;

/**
 * Applies one logged batch to the facts with a single mutation: the batch's new values go into a
 * Join-engine table keyed by event_id (as text: StorageJoin cannot be read back with UUID keys), and
 * `ALTER TABLE usage_events UPDATE col = joinGet(...)` rewrites only the rows the table holds.
 * mutations_sync = 2 returns once every part is rewritten. The stage is filled from reprice_log, so
 * what the facts receive is, by construction, exactly what the log says they received.
 */
export async function applyBatch(
  client: ClickHouseClient,
  database: string,
  ref: BatchRef,
  filter: FactFilter,
): Promise<void> {
  const stage = `${database}.reprice_stage_${ref.runId.replaceAll('-', '')}_${ref.batch}`;
  const columns = SET_COLUMNS.map(
    (c) => `${c} ${c.startsWith('cost_') ? 'Int64' : c === 'price_version' ? 'String' : 'UInt8'}`,
  );
  const key = 'toString(event_id)';
  try {
    await exec(
      client,
      `CREATE TABLE ${stage} (event_key String, ${columns.join(', ')}) ENGINE = Join(ANY, LEFT, event_key) SETTINGS persistent = 0`,
      `creating ${stage}`,
    );
    await exec(
      client,
      `INSERT INTO ${stage} SELECT toString(event_id), ${SET_COLUMNS.map((c) => `new_${c}`).join(', ')}
       FROM ${database}.reprice_log WHERE run_id = ${uuidLiteral(ref.runId)} AND apply_batch = ${ref.batch}`,
      `staging re-priced batch ${ref.batch}`,
    );
    const assignments = SET_COLUMNS.map((c) => `${c} = joinGet('${stage}', '${c}', ${key})`).join(', ');
    // The time range only lets the mutation skip partitions; the Join membership selects the rows.
    await exec(
      client,
      `ALTER TABLE ${database}.usage_events UPDATE ${assignments}
       WHERE occurred_at >= ${msLiteral(filter.fromMs)} AND occurred_at < ${msLiteral(filter.toMs)}
         AND ${key} IN (SELECT event_key FROM ${stage})
       SETTINGS mutations_sync = 2`,
      `the mutation applying re-priced batch ${ref.batch} to ${database}.usage_events`,
    );
  } catch (error) {
    // A failed mutation stays queued and blocks every later one on the table; it must not outlive us.
    await killMutations(client, database, stage).catch(() => {});
    throw error;
  } finally {
    await exec(client, `DROP TABLE IF EXISTS ${stage} SYNC`, `dropping ${stage}`).catch(() => {});
  }
}

/** Kills the usage_events mutations whose command mentions `marker` (our stage table's name). */
export async function killMutations(
  client: ClickHouseClient,
  database: string,
  marker: string,
): Promise<void> {
  await exec(
    client,
    `KILL MUTATION WHERE database = {db:String} AND table = 'usage_events' AND position(command, {marker:String}) > 0 SYNC`,
    `killing the mutation that mentions ${marker}`,
    { db: database, marker },
  );
}

/**
 * Refuses to queue mutations behind one that keeps failing: ClickHouse runs a table's mutations in
 * order, so ours would wait forever. Names the mutation so the operator can inspect or kill it.
 */
export async function assertNoFailingMutations(client: ClickHouseClient, database: string): Promise<void> {
  const stuck = await select<{ table: string; mutation_id: string; latest_fail_reason: string }>(
    client,
    `SELECT table, mutation_id, latest_fail_reason FROM system.mutations
     WHERE database = {db:String} AND NOT is_done AND latest_fail_reason != '' LIMIT 1`,
    'checking for failing mutations',
    { db: database },
  );
  const first = stuck[0];
  if (first) {
    throw new BurnrateError(
      'clickhouse_mutation_failing',
      `Mutation ${first.mutation_id} on ${database}.${first.table} keeps failing (${first.latest_fail_reason.split('\n')[0]}); ` +
        'inspect it in system.mutations or KILL MUTATION it before re-pricing.',
      { field: 'system.mutations' },
    );
  }
}
