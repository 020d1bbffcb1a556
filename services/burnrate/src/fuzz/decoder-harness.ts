import { Worker } from 'node:worker_threads';
import { avroCase, type FuzzPlan } from './cases.js';
import type { DecoderCaseResult } from './decoder-worker.js';
import { count, emptyReport, fail, type PathReport, timing } from './report.js';

export interface DecoderFuzzOptions {
  plan: FuzzPlan;
  cases: number;
  /** A case slower than this is a failure. Default 2 s: far above a GC pause or a busy machine's scheduling, far below what a runaway loop takes (the watchdog catches those that never end). */
  slowMs?: number;
  /** A case that has not returned after this long is a hang: the thread is ended. Default 10 s. */
  hangMs?: number;
  /** Heap limit of the decoding thread: a case that allocates more is a failure. Default 512 MiB. */
  maxHeapMb?: number;
  /** Test this decode function instead of the contract's (a module path or file URL, and its export). */
  decoder?: { module: string; export: string };
}

const WORKER = new URL('./decoder-thread.mjs', import.meta.url);
// The worker is TypeScript, loaded through tsx, with workspace packages resolved to their sources.
const EXEC_ARGV = ['--conditions=@burnrate/source'];

/**
 * Path 1: every case through the client library's decoder and the contract's validator, in a worker
 * thread under a heap limit and a watchdog. A hang or an out-of-memory is reported as a failure of
 * the case it happened in, and the run goes on from the next case.
 */
export async function runDecoderFuzz(o: DecoderFuzzOptions): Promise<PathReport> {
  const started = performance.now();
  const report = emptyReport('decoder');
  const progress = new SharedArrayBuffer(8);
  const current = new Int32Array(progress);
  let start = 0;
  while (start < o.cases) {
    Atomics.store(current, 0, start);
    Atomics.store(current, 1, 0);
    const outcome = await runRange(o, start, progress, report);
    if (outcome === 'done') break;
    const at = Atomics.load(current, 0);
    if (outcome.beforeFirstCase) {
      // Not a case's fault: the thread itself cannot run. Stop rather than fail every case alike.
      fail(report, { path: 'decoder', index: at, kind: '(run)', variant: '', problem: outcome.problem });
      break;
    }
    const c = avroCase(o.plan, 'decoder', at);
    count(report, c.kind, 'hang', false);
    fail(report, { path: 'decoder', index: at, kind: c.kind, variant: c.variant, problem: outcome.problem });
    start = at + 1;
  }
  report.durationMs = performance.now() - started;
  return report;
}

function runRange(
  o: DecoderFuzzOptions,
  start: number,
  progress: SharedArrayBuffer,
  report: PathReport,
): Promise<'done' | { problem: string; beforeFirstCase: boolean }> {
  const hangMs = o.hangMs ?? 10_000;
  const slowMs = o.slowMs ?? 2_000;
  const current = new Int32Array(progress);
  return new Promise((resolve) => {
    const worker = new Worker(WORKER, {
      execArgv: EXEC_ARGV,
      workerData: { plan: o.plan, start, end: o.cases, progress, decoder: o.decoder },
      resourceLimits: { maxOldGenerationSizeMb: o.maxHeapMb ?? 512 },
    });
    let last = -1;
    let still = 0;
    let settled = false;
    const settle = (value: 'done' | { problem: string; beforeFirstCase: boolean }) => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      void worker.terminate();
      resolve(value);
    };
    // A case is stuck when its index has not moved for hangMs (the first case also waits for start-up).
    const watch = setInterval(() => {
      const at = Atomics.load(current, 0);
      still = at === last ? still + 250 : 0;
      last = at;
      if (still >= hangMs) {
        settle({ problem: `no answer after ${hangMs} ms: the decoder hangs`, beforeFirstCase: false });
      }
    }, 250);
    worker.on('message', (message: DecoderCaseResult | { done: true; rssGrowthMiB: number }) => {
      if (settled) return;
      if ('done' in message) {
        report.notes.push(`peak RSS growth of the decoding thread's process: ${message.rssGrowthMiB} MiB`);
        settle('done');
        return;
      }
      const { index, kind, variant, outcome, valid, ms, problem } = message;
      count(report, kind, outcome, valid);
      timing(report, ms, `#${index} ${kind} ${variant}`);
      const slow = ms > slowMs ? `took ${ms.toFixed(1)} ms (limit ${slowMs} ms)` : undefined;
      if (problem ?? slow)
        fail(report, { path: 'decoder', index, kind, variant, problem: (problem ?? slow)! });
    });
    // The worker marks its first case in progress[1]; an error before that is a start-up failure.
    worker.once('error', (error) =>
      settle({
        problem: `the decoding thread died: ${(error as Error).message.slice(0, 200)}`,
        beforeFirstCase: Atomics.load(current, 1) !== 1,
      }),
    );
    worker.once('exit', (code) =>
      settle({
        problem: `the decoding thread exited with code ${code}`,
        beforeFirstCase: Atomics.load(current, 1) !== 1,
      }),
    );
  });
}
