import { randomUUID } from 'node:crypto';
import { BurnrateError, ValidationError } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import { countFacts, scanFacts } from './facts.js';
import { applyBatch, assertNoFailingMutations, type FactChange, logChanges } from './journal.js';
import type { FactFilter } from './options.js';
import {
  type FactPricing,
  type PricingReference,
  repriceFact,
  samePricing,
  storedPricing,
} from './price-fact.js';
import { type RepriceProgress, silentProgress } from './progress.js';
import { countRollupKeys, countRollupMismatches, rebuildRollups } from './rollups.js';
import { recordRun, unfinishedRuns, waitForFactMutations } from './runs.js';
import { checkIdentifier } from './sql.js';
import { countFact, emptyTally, type RepriceSummary } from './tally.js';

export interface RepriceDeps {
  client: ClickHouseClient;
  database: string;
  /** The catalog and overrides to price with: "now", as the enricher would. */
  reference: PricingReference;
  progress?: RepriceProgress;
  now?: () => number;
}

export interface RepriceOptions {
  filter: FactFilter;
  /** Compute and report, write nothing. */
  dryRun?: boolean;
  /** Facts read per query. */
  chunkRows?: number;
  /** Changes applied per mutation; bounds the memory of the Join table that stages them. */
  applyBatchRows?: number;
  /** How long to wait for an interrupted run's mutation before rebuilding its rollups. */
  pendingMutationTimeoutMs?: number;
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError(name, `${name} must be a positive integer, got ${value}.`, 'invalid_argument');
  }
  return value;
}

/**
 * Re-prices the facts matching `filter` with the current reference data: scan in key order, price
 * each fact as enrichment would now, log and apply only the facts whose pricing changes, then
 * rebuild and verify the rollups they feed. A second run over the same range finds nothing to
 * change and writes nothing but its own run records.
 */
export async function repriceRange(deps: RepriceDeps, options: RepriceOptions): Promise<RepriceSummary> {
  const { client, reference } = deps;
  const database = checkIdentifier(deps.database, 'CLICKHOUSE_DATABASE');
  const progress = deps.progress ?? silentProgress;
  const now = deps.now ?? Date.now;
  const chunkRows = positive(options.chunkRows ?? 10_000, 'chunkRows');
  const applyBatchRows = positive(options.applyBatchRows ?? 500_000, 'applyBatchRows');
  const dryRun = options.dryRun ?? false;
  const startedAt = now();
  const summary: RepriceSummary = {
    runId: randomUUID(),
    dryRun,
    filter: options.filter,
    priceCatalogVersion: reference.prices.version,
    overridesVersion: reference.overrides.version,
    tally: emptyTally(),
    recoveredRuns: [],
    hourKeys: 0,
    periodKeys: 0,
    elapsedMs: 0,
  };
  const { runId, tally } = summary;
  if (!dryRun) {
    await assertNoFailingMutations(client, database);
    summary.recoveredRuns = await unfinishedRuns(client, database);
    await recordRun(client, database, 'started', now(), summary);
  }

  progress.start(await countFacts(client, database, options.filter));
  let batch = 0;
  let staged = 0;
  const apply = async () => {
    progress.phase(`applying ${staged.toLocaleString('en-US')} changes (batch ${batch + 1})`);
    await applyBatch(client, database, { runId, batch }, options.filter);
    batch++;
    staged = 0;
  };
  for await (const rows of scanFacts(client, database, options.filter, chunkRows)) {
    const changes: FactChange[] = [];
    for (const row of rows) {
      const before = storedPricing(row);
      let after: FactPricing | undefined;
      try {
        after = repriceFact(row, reference);
      } catch (error) {
        if (!(error instanceof BurnrateError)) throw error;
        tally.firstFailure ??= `event ${row.event_id}: ${error.message}`;
      }
      const changed = after !== undefined && !samePricing(before, after);
      countFact(tally, before, after, changed);
      if (changed) changes.push({ row, before, after: after! });
    }
    if (!dryRun && changes.length > 0) {
      await logChanges(client, database, { runId, batch }, now(), changes);
      staged += changes.length;
    }
    progress.scanned(tally.scanned, tally.changed);
    if (staged >= applyBatchRows) await apply();
  }
  if (staged > 0) await apply();

  if (!dryRun) {
    const runIds = [...summary.recoveredRuns, runId];
    const keys = await countRollupKeys(client, database, runIds);
    summary.hourKeys = keys.hourKeys;
    summary.periodKeys = keys.periodKeys;
    if (keys.hourKeys + keys.periodKeys > 0) {
      if (summary.recoveredRuns.length > 0) {
        await waitForFactMutations(client, database, {
          timeoutMs: options.pendingMutationTimeoutMs ?? 600_000,
        });
      }
      await rebuildAndVerify(client, database, runIds, progress, keys.hourKeys, keys.periodKeys);
    }
    await recordRun(client, database, 'finished', now(), summary);
  }
  progress.finish();
  summary.elapsedMs = now() - startedAt;
  return summary;
}

async function rebuildAndVerify(
  client: ClickHouseClient,
  database: string,
  runIds: string[],
  progress: RepriceProgress,
  hourKeys: number,
  periodKeys: number,
): Promise<void> {
  // A second attempt covers a late insert that raced the first rebuild (docs/repricing.md).
  for (let attempt = 1; attempt <= 2; attempt++) {
    progress.phase(`rebuilding rollups: ${hourKeys} hour×customer and ${periodKeys} period×customer keys`);
    await rebuildRollups(client, database, runIds, `${runIds[runIds.length - 1]}:${attempt}`);
    const mismatches = await countRollupMismatches(client, database, runIds);
    if (mismatches === 0) return;
    if (attempt === 2) {
      // The run stays unfinished, so the next `burnrate reprice` rebuilds these keys again.
      throw new BurnrateError(
        'rollups_disagree',
        `${mismatches} rollup key(s) still disagree with the facts after rebuilding; something is writing to the ` +
          'same hours. Run `burnrate reprice` again once the writes have stopped.',
        { retriable: true, field: 'usage_hourly' },
      );
    }
  }
}
