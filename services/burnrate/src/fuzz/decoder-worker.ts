import { parentPort, workerData } from 'node:worker_threads';
import { avroCase, type FuzzPlan } from './cases.js';
import { checkDecoderCase, type Decode, type DecoderCheck } from './decoder-check.js';

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
}

/** What the thread sends for each case. */
export interface DecoderCaseResult extends DecoderCheck {
  index: number;
  kind: string;
  variant: string;
}

const data = workerData as DecoderWorkerData;
const progress = new Int32Array(data.progress);
let decode: Decode | undefined;
if (data.decoder) {
  const mod = (await import(data.decoder.module)) as Record<string, Decode>;
  decode = mod[data.decoder.export];
}
let peakRss = process.memoryUsage.rss();
const startRss = peakRss;
Atomics.store(progress, 1, 1);
for (let i = data.start; i < data.end; i++) {
  Atomics.store(progress, 0, i);
  const c = avroCase(data.plan, 'decoder', i);
  const check = checkDecoderCase(c, decode);
  // One message per case, so a later hang (which ends this thread) loses no case's result.
  const result: DecoderCaseResult = { index: i, kind: c.kind, variant: c.variant, ...check };
  parentPort!.postMessage(result);
  if (i % 256 === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
}
peakRss = Math.max(peakRss, process.memoryUsage.rss());
parentPort!.postMessage({ done: true, rssGrowthMiB: Math.round((peakRss - startRss) / 1048576) });
