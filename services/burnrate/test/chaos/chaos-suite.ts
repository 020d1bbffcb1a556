import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ChaosRun, formatReport, runScenario, SCENARIOS, startChaosRun } from '../../chaos/index.js';

/**
 * The reduced chaos run (`npm run chaos -- --size ci`) as tests: a 3-node cluster of this file's
 * own, then each named scenario once with every figure exact, and once as its negative control with
 * at least one figure off. Ports from TEST_CHAOS_PORT_BASE (default TEST_KAFKA_PORT + 50; each file
 * adds its own offset so two files can run at once).
 */
export function chaosSuite(names: string[], portOffset: number) {
  const scenarios = names.map((n) => {
    const s = SCENARIOS.find((x) => x.name === n);
    if (!s) throw new Error(`no chaos scenario ${n}`);
    return s;
  });
  let run: ChaosRun & { stop(): Promise<void> };
  const base = Number(process.env.TEST_CHAOS_PORT_BASE ?? Number(process.env.TEST_KAFKA_PORT ?? 39092) + 50);
  beforeAll(async () => {
    run = await startChaosRun({
      rootDir: inject('rootDir'),
      portBase: base + portOffset,
      stateDir: join(inject('rootDir'), '.burnrate', `test-chaos-${portOffset}`),
      log: (line) => process.env.CHAOS_LOG && console.log(`[chaos] ${line}`),
    });
  }, 180_000);
  afterAll(() => run?.stop(), 120_000);

  for (const scenario of scenarios) {
    describe(`chaos: ${scenario.title}`, () => {
      it('keeps every figure exact', { timeout: 600_000 }, async () => {
        const report = await runScenario(run, scenario, { size: 'ci', control: false });
        console.log(formatReport(report));
        expect(report.error).toBeUndefined();
        expect(report.outcome?.off).toEqual([]);
      });
      it(`negative control (${scenario.control}) shows a figure off`, { timeout: 600_000 }, async () => {
        const report = await runScenario(run, scenario, { size: 'ci', control: true });
        console.log(formatReport(report));
        expect(report.error).toBeUndefined();
        expect(report.outcome?.off.length).toBeGreaterThan(0);
      });
    });
  }
}
