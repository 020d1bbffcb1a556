import { eventPlan } from './event-plan.js';
import type { Load } from './load.js';
import { type ChaosRun, type Pipeline, type PipelineOptions, startPipeline } from './pipeline.js';
import { type ChaosSize, type ScenarioOutcome, unplannedExits } from './scenario.js';

/** One pipeline of a scenario: the guarded one, or its negative control. */
export type VariantOptions = Omit<PipelineOptions, 'plan' | 'name'> & {
  /** Planned events (the load emits them all). */
  events: number;
};

/**
 * Starts one pipeline per variant (named `name`, or `name-control`), all at once; runs `body` (loads
 * and faults, applied to every pipeline) and drains them side by side: each one's figures are read
 * once every one of them is exact, or once they stop moving. Each outcome's notes get that
 * pipeline's unplanned role exits (fatal errors, fenced zombies) appended.
 */
export async function withPipelines(
  run: ChaosRun,
  o: { name: string; size: ChaosSize; variants: VariantOptions[]; drainTimeoutMs?: number },
  body: (pipelines: Pipeline[]) => Promise<{ loads: Load[]; notes: string[] }>,
): Promise<ScenarioOutcome[]> {
  const started = await Promise.allSettled(
    o.variants.map((v) => {
      const name = `${o.name}${v.control ? '-control' : ''}`;
      const { events, ...options } = v;
      return startPipeline(run, { ...options, name, plan: eventPlan(events, name) });
    }),
  );
  const pipelines = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const { loads, notes } = await body(pipelines);
    const results = await Promise.all(loads.map((l) => l.done));
    // Figures that are off and stay put this long are final (a control's duplicates never go away).
    const stableMs = o.size === 'full' ? 30_000 : 10_000;
    const drainMs = o.drainTimeoutMs ?? (o.size === 'full' ? 600_000 : 240_000);
    return await Promise.all(
      pipelines.map(async (p, i) => {
        const load = results[i]!;
        run.log(`${p.name}: ${load.produced} events produced in ${load.seconds.toFixed(0)} s; draining`);
        const { figures, off, settled } = await p.drain(load, drainMs, stableMs);
        const exits = unplannedExits(p.all());
        return {
          figures,
          off,
          settled,
          notes: [
            ...notes,
            ...(exits.length ? [`unplanned exits ${exits.join(' ')}`] : []),
            ...(settled ? [] : ['did not drain in time']),
          ],
        };
      }),
    );
  } finally {
    await Promise.all(pipelines.map((p) => p.stop()));
  }
}

/** The variants of a scenario: the same options for each, marked guarded or control. */
export function variantsOf(
  controls: boolean[],
  options: (control: boolean) => Omit<VariantOptions, 'control'>,
): VariantOptions[] {
  return controls.map((control) => ({ ...options(control), control }));
}
