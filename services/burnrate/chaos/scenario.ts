import type { Figures } from './figures.js';
import type { ChaosRun } from './pipeline.js';

export type ChaosSize = 'full' | 'ci';

export interface ScenarioOutcome {
  figures: Figures;
  /** Figures that are off (empty: exact). */
  off: string[];
  /** The pipeline drained: every role up, every group at the log end, figures still. False after a timeout. */
  settled: boolean;
  /** What was done, e.g. "killed node 2, 3, 1". */
  notes: string[];
}

/**
 * A fault and the guarantee it tests. `run` starts one pipeline per entry of `controls` (false: the
 * guarantee on; true: its negative control, the guarantee switched off), all at once on the same
 * cluster, injects the fault once into every one of them, and returns their outcomes in that order.
 * Run side by side, the control meets exactly the fault the guarded pipeline survived.
 */
export interface Scenario {
  name: string;
  /** One line: the fault, and the guarantee it tests. */
  title: string;
  /** What the negative control switches off. */
  control: string;
  run(run: ChaosRun, o: { size: ChaosSize; controls: boolean[] }): Promise<ScenarioOutcome[]>;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves once `read()` is true; rejects after `timeoutMs` with `what`. */
export async function until(read: () => Promise<boolean> | boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await Promise.resolve()
      .then(read)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** Role exits the chaos run did not cause (fatal errors, fenced zombies), as `name:code`. */
export function unplannedExits(
  processes: Array<{ name: string; exits(): Array<{ deliberate: boolean; code: number | null }> }>,
) {
  return processes.flatMap((p) =>
    p
      .exits()
      .filter((e) => !e.deliberate)
      .map((e) => `${p.name}:${e.code}`),
  );
}
