import type { FuzzPlan } from './cases.js';
import { runDecoderFuzz } from './decoder-harness.js';
import { runEnricherFuzz } from './enricher-harness.js';
import { runHttpFuzz } from './http-harness.js';
import { formatReport, type PathReport } from './report.js';
import { randomSeed } from './rng.js';
import { startFuzzTarget, TARGET_LIMITS } from './target.js';

export interface FuzzCounts {
  decoder: number;
  enricher: number;
  http: number;
}

export interface FuzzRunOptions {
  /** Reproduces a run; a random one (printed) when absent. */
  seed?: number;
  /** Cases per path; default `splitTotal(100_000)`. A path with 0 cases is skipped. */
  counts?: FuzzCounts;
  /** Kafka bootstrap brokers (comma-separated) and Redis for the burnrate process under test. */
  brokers: string;
  redisUrl: string;
  /** More environment for the burnrate process under test. */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

export interface FuzzRunResult {
  seed: number;
  reports: PathReport[];
  failures: number;
  crashes: number;
  /** The report as printed by `npm run fuzz`. */
  text: string;
}

/** 70 % decoder (cheap, in-process), 20 % enricher (through Kafka and ClickHouse), 10 % HTTP. */
export function splitTotal(total: number): FuzzCounts {
  const enricher = Math.round(total * 0.2);
  const http = Math.round(total * 0.1);
  return { decoder: total - enricher - http, enricher, http };
}

export function fuzzPlan(seed: number, nowMs = Date.now()): FuzzPlan {
  return {
    seed,
    nowMs,
    lateHorizonMs: TARGET_LIMITS.lateHorizonMs,
    maxFutureSkewMs: TARGET_LIMITS.maxFutureSkewMs,
    maxRecordBytes: 900_000,
    body: { maxBodyBytes: TARGET_LIMITS.maxBodyBytes, maxBatchEvents: TARGET_LIMITS.maxBatchEvents },
  };
}

/**
 * The whole fuzz: the decoder path in a worker thread, then one real burnrate process (enricher,
 * ledger, api) for the enricher and HTTP paths. Returns the per-path reports; `failures` and
 * `crashes` are 0 for a clean run. Used by `npm run fuzz` and by the chaos command.
 */
export async function runFuzz(o: FuzzRunOptions): Promise<FuzzRunResult> {
  const seed = o.seed ?? randomSeed();
  const counts = o.counts ?? splitTotal(100_000);
  const log = o.log ?? (() => {});
  const plan = fuzzPlan(seed);
  log(`fuzz seed ${seed}: decoder ${counts.decoder}, enricher ${counts.enricher}, http ${counts.http} cases`);
  const reports: PathReport[] = [];
  if (counts.decoder > 0) {
    reports.push(await runDecoderFuzz({ plan, cases: counts.decoder }));
    log(`decoder: done in ${(reports.at(-1)!.durationMs / 1000).toFixed(1)} s`);
  }
  if (counts.enricher > 0 || counts.http > 0) {
    const start = () =>
      startFuzzTarget({ brokers: o.brokers, redisUrl: o.redisUrl, log, ...(o.env ? { env: o.env } : {}) });
    let target = await start();
    try {
      if (counts.enricher > 0)
        reports.push(await runEnricherFuzz(target, { plan, cases: counts.enricher, log }));
      if (counts.http > 0) {
        // A process the enricher path brought down is reported there; the HTTP path gets a fresh one.
        if (!(await target.health()).alive) {
          await target.stop();
          target = await start();
        }
        reports.push(await runHttpFuzz(target, { plan, cases: counts.http, log }));
      }
    } finally {
      await target.stop();
    }
  }
  return {
    seed,
    reports,
    failures: reports.reduce((n, r) => n + r.failureCount, 0),
    crashes: reports.reduce((n, r) => n + r.crashes, 0),
    text: formatReport(seed, reports),
  };
}
