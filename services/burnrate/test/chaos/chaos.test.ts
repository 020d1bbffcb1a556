import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type ChaosRun,
  formatReport,
  runScenario,
  SCENARIOS,
  type ScenarioReport,
  startChaosRun,
} from '../../chaos/index.js';

/**
 * The reduced chaos run (`npm run chaos -- --size ci`, without the fuzz, which test/fuzz runs) as
 * tests: a 3-node cluster of this file's own, then every scenario once (one kill, fewer events), its
 * negative control beside it under the same fault: the guarded pipeline with every figure exact, the
 * control with at least one figure off. Ports from TEST_CHAOS_PORT_BASE (default 29150) to base + 41.
 * The sequencer (vitest.config.ts) starts this file first: it takes minutes, mostly waiting on faults.
 */
describe('chaos (reduced)', () => {
  let run: ChaosRun & { stop(): Promise<void> };
  // Below 32768: ports in the range the OS hands out for outgoing connections can be taken at any moment.
  const base = Number(process.env.TEST_CHAOS_PORT_BASE ?? 29150);
  beforeAll(async () => {
    run = await startChaosRun({
      rootDir: inject('rootDir'),
      portBase: base,
      stateDir: join(inject('rootDir'), '.burnrate', 'test-chaos'),
      log: (line) => process.env.CHAOS_LOG && console.log(`[chaos] ${line}`),
    });
  }, 180_000);
  afterAll(() => run?.stop(), 120_000);

  for (const scenario of SCENARIOS) {
    describe(`chaos: ${scenario.title}`, () => {
      let reports: ScenarioReport[] = [];
      beforeAll(async () => {
        reports = await runScenario(run, scenario, { size: 'ci' });
        for (const r of reports) console.log(formatReport(r));
      }, 600_000);
      it('keeps every figure exact', () => {
        const [guarded] = reports;
        expect(guarded?.error).toBeUndefined();
        expect(guarded?.outcome?.off).toEqual([]);
      });
      it(`negative control (${scenario.control}) shows a figure off once drained`, () => {
        const control = reports[1];
        expect(control?.error).toBeUndefined();
        expect(control?.outcome?.off.length).toBeGreaterThan(0);
        expect(control?.outcome?.settled).toBe(true);
      });
    });
  }
});
