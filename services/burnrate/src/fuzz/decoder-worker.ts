import { parentPort, workerData } from 'node:worker_threads';
import { avroCase, type FuzzPlan } from './cases.js';
import { checkDecoderCase, type Decode } from './decoder-check.js';
import { count, emptyReport, fail, timing } from './report.js';

/**
 * Runs decoder cases [start, end) in a worker thread. Before each case it writes the case index to
 * shared memory, so the main thread sees which case a hang is stuck in and can end this thread.
 */
export interface DecoderWorkerData {
  plan: FuzzPlan;
  start: number;
  end: number;
  /** Shared Int32Array: [0] = the case under way, [1] = 1 once the thread has started. */
  progress: SharedArrayBuffer;
  /** A module exporting the decode function to test instead of the contract's (negative controls). */
  decoder?: { module: string; export: string };
  slowMs: number;
}

const data = workerData as DecoderWorkerData;
const progress = new Int32Array(data.progress);
let decode: Decode | undefined;
if (data.decoder) {
  const mod = (await import(data.decoder.module)) as Record<string, Decode>;
  decode = mod[data.decoder.export];
}
let report = emptyReport('decoder');
let peakRss = process.memoryUsage.rss();
const startRss = peakRss;
Atomics.store(progress, 1, 1);
for (let i = data.start; i < data.end; i++) {
  Atomics.store(progress, 0, i);
  const c = avroCase(data.plan, 'decoder', i);
  const check = checkDecoderCase(c, decode);
  count(report, c.kind, check.outcome, check.valid);
  timing(report, check.ms, `#${i} ${c.kind} ${c.variant}`);
  if (check.problem)
    fail(report, { path: 'decoder', index: i, kind: c.kind, variant: c.variant, problem: check.problem });
  else if (check.ms > data.slowMs) {
    fail(report, {
      path: 'decoder',
      index: i,
      kind: c.kind,
      variant: c.variant,
      problem: `took ${check.ms.toFixed(1)} ms (limit ${data.slowMs} ms)`,
    });
  }
  if (i % 256 === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
  // Counts so far go to the main thread now and then, so a later hang loses none of them.
  if ((i + 1) % 1_000 === 0) {
    parentPort!.postMessage({ done: false, report });
    report = emptyReport('decoder');
  }
}
peakRss = Math.max(peakRss, process.memoryUsage.rss());
report.notes.push(
  `peak RSS growth of the decoding thread's process: ${Math.round((peakRss - startRss) / 1048576)} MiB`,
);
parentPort!.postMessage({ done: true, report });
