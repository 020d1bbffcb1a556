import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureKafkaJars, type ScratchRedis, startKafkaCluster, startScratchRedis } from '@burnrate/devstack';
import { formatFigures } from './figures.js';
import type { ChaosRun } from './pipeline.js';
import type { ChaosSize, Scenario, ScenarioOutcome } from './scenario.js';

export interface ChaosRunOptions {
  rootDir: string;
  /** Ports from here: Kafka nodes on base, base+2, base+4 (controllers +1), Redis base+8; each pipeline takes the next of 16 slots k: ClickHouse base+10+2k, its proxy one above. */
  portBase: number;
  /** State folder (cluster, scenarios' data and logs); wiped at start. */
  stateDir: string;
  log(line: string): void;
}

/** Starts the 3-node cluster and a Redis of the run's own; `stop()` ends both. */
export async function startChaosRun(o: ChaosRunOptions): Promise<ChaosRun & { stop(): Promise<void> }> {
  rmSync(o.stateDir, { recursive: true, force: true });
  mkdirSync(o.stateDir, { recursive: true });
  const libsDir = await ensureKafkaJars({ pomPath: join(o.rootDir, 'infra/kafka/pom.xml'), log: o.log });
  const started = Date.now();
  const cluster = await startKafkaCluster({
    libsDir,
    log4jConfigPath: join(o.rootDir, 'infra/kafka/log4j2.properties'),
    dataDir: join(o.stateDir, 'kafka'),
    port: o.portBase,
    controllerPort: o.portBase + 1,
    fresh: true,
  });
  o.log(
    `3-node Kafka cluster ready at ${cluster.brokers} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  let redis: ScratchRedis;
  try {
    redis = await startScratchRedis(o.portBase + 8);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  let turn = 0;
  return {
    rootDir: o.rootDir,
    stateDir: o.stateDir,
    cluster,
    redis,
    // 16 slots in turn: a scenario left running by a test that timed out holds other ports than the next one's.
    nextPorts: () => {
      const k = turn++ % 16;
      return { clickhouse: o.portBase + 10 + 2 * k, proxy: o.portBase + 11 + 2 * k };
    },
    log: o.log,
    async stop() {
      await redis.stop();
      await cluster.stop();
    },
  };
}

export interface ScenarioReport {
  scenario: string;
  control: boolean;
  outcome?: ScenarioOutcome;
  error?: string;
  seconds: number;
  /** The scenario held every figure exact; its control showed at least one figure off. */
  ok: boolean;
}

/**
 * Runs one scenario: the guarded pipeline and, unless `controls` is false, its negative control
 * beside it under the same fault; judges each (a report per pipeline, guarded first). Never throws.
 */
export async function runScenario(
  run: ChaosRun,
  scenario: Scenario,
  o: { size: ChaosSize; controls?: boolean },
): Promise<ScenarioReport[]> {
  const started = Date.now();
  const controls = o.controls === false ? [false] : [false, true];
  try {
    const outcomes = await scenario.run(run, { size: o.size, controls });
    const seconds = (Date.now() - started) / 1000;
    return outcomes.map((outcome, i) => {
      const control = controls[i]!;
      const broken = outcome.off.length > 0;
      return {
        scenario: scenario.name,
        control,
        outcome,
        seconds,
        // A control counts only if the pipeline drained: figures off because it was still catching up prove nothing.
        ok: control ? broken && outcome.settled : !broken,
      };
    });
  } catch (error) {
    // The message, and where it was thrown (the first frame of ours), so a reduced run's line says enough.
    const frame =
      error instanceof Error
        ? error.stack?.split('\n').find((l) => /burnrate\/(src|chaos)\//.test(l))
        : undefined;
    const message = `${error instanceof Error ? error.message : String(error)}${frame ? ` (${frame.trim()})` : ''}`;
    const seconds = (Date.now() - started) / 1000;
    return controls.map((control) => ({
      scenario: scenario.name,
      control,
      error: message,
      seconds,
      ok: false,
    }));
  }
}

/** One line: verdict, scenario, figures, what was off, notes. */
export function formatReport(r: ScenarioReport): string {
  const name = `${r.scenario}${r.control ? ' (negative control)' : ''}`;
  const verdict = r.ok ? 'OK  ' : 'FAIL';
  if (!r.outcome) return `${verdict} ${name}: error: ${r.error} [${r.seconds.toFixed(0)} s]`;
  const off = r.outcome.off.length ? ` | off: ${r.outcome.off.join('; ')}` : ' | every figure exact';
  const notes = r.outcome.notes.length ? ` | ${r.outcome.notes.join('; ')}` : '';
  return `${verdict} ${name}: ${formatFigures(r.outcome.figures)}${off}${notes} [${r.seconds.toFixed(0)} s]`;
}
