import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runEnricherFuzz } from '../../src/fuzz/enricher-harness.js';
import { runHttpFuzz } from '../../src/fuzz/http-harness.js';
import { fuzzPlan } from '../../src/fuzz/run-fuzz.js';
import { type FuzzTarget, startFuzzTarget } from '../../src/fuzz/target.js';

/**
 * The enricher and HTTP paths of the fuzz, reduced, against one real `burnrate run` process
 * (enricher, ledger, api) on the test broker, with ClickHouse in this process. `npm run fuzz` runs
 * the full size. The negative control kills the process and shows the harness reports it.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
const plan = fuzzPlan(SEED);
let target: FuzzTarget;

beforeAll(async () => {
  target = await startFuzzTarget({ brokers: inject('kafkaBrokers'), redisUrl: inject('redisUrl') });
}, 120_000);
afterAll(() => target?.stop(), 60_000);

describe(`pipeline fuzz (seed ${SEED})`, { timeout: 120_000 }, () => {
  it('1,050 mutated records through the enricher process: each stored once, as the right fact or dead letter', async () => {
    const report = await runEnricherFuzz(target, { plan, cases: 1_050 });
    expect(report.failures, JSON.stringify(report.failures.slice(0, 5), null, 1)).toEqual([]);
    expect(report.crashes).toBe(0);
    const outcomes = Object.values(report.byKind).flatMap((k) => Object.keys(k.outcomes));
    expect(outcomes).toContain('fact');
    expect(outcomes).toEqual(
      expect.arrayContaining(['dead:undecodable', 'dead:unknown_schema', 'dead:invalid_value']),
    );
  });

  it('360 mutated bodies to POST /v1/events: 200 or a typed 4xx, never 5xx; accepted events stored exactly', async () => {
    const report = await runHttpFuzz(target, { plan, cases: 360 });
    expect(report.failures, JSON.stringify(report.failures.slice(0, 5), null, 1)).toEqual([]);
    expect(report.crashes).toBe(0);
    const statuses = new Set(Object.values(report.byKind).flatMap((k) => Object.keys(k.outcomes)));
    expect([...statuses].sort()).toEqual(['http_200', 'http_400', 'http_413', 'http_422']);
  });

  it('negative control: a process that dies is reported as a crash, with every request after it', async () => {
    process.kill(target.pid!, 'SIGKILL');
    await expect.poll(async () => (await target.health()).alive, { timeout: 10_000 }).toBe(false);
    const report = await runHttpFuzz(target, { plan, cases: 9, timeoutMs: 2_000 });
    expect(report.crashes).toBe(1);
    expect(report.failures[0]!.problem).toMatch(/the burnrate process is gone/);
    expect(report.failures.filter((f) => /no answer/.test(f.problem))).toHaveLength(9);
  });
});
