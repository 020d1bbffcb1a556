import { eventPlan } from './event-plan.js';
import type { LoadResult } from './load.js';
import { type ChaosRun, type Pipeline, type PipelineOptions, startPipeline } from './pipeline.js';
import { type ChaosSize, type ScenarioOutcome, unplannedExits } from './scenario.js';

/**
 * Starts a pipeline for `events` planned events, runs `body` (load + faults) and drains: the figures
 * are read once every one of them is exact, or once they stop moving. Notes get the role processes'
 * unplanned exits (fatal errors, fenced zombies) appended.
 */
export async function withPipeline(
  run: ChaosRun,
  o: Omit<PipelineOptions, 'plan'> & { events: number; size: ChaosSize; drainTimeoutMs?: number },
  body: (p: Pipeline) => Promise<{ load: LoadResult; notes: string[] }>,
): Promise<ScenarioOutcome> {
  const plan = eventPlan(o.events, o.name);
  const pipeline = await startPipeline(run, { ...o, plan });
  try {
    const { load, notes } = await body(pipeline);
    run.log(`${o.name}: ${load.produced} events produced in ${load.seconds.toFixed(0)} s; draining`);
    // Figures that are off and stay put this long are final (a control's duplicates never go away).
    const stableMs = o.size === 'full' ? 30_000 : 12_000;
    const drainMs = o.drainTimeoutMs ?? (o.size === 'full' ? 600_000 : 240_000);
    const { figures, off, settled } = await pipeline.drain(load, drainMs, stableMs);
    const exits = unplannedExits(pipeline.all());
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
  } finally {
    await pipeline.stop();
  }
}
