// `npm run chaos`: every chaos scenario at full size against a 3-node Kafka cluster, every role its
// own OS process; one line per scenario with its figures; then the fuzz (100,000 mutated events) on
// the same cluster. Exit code 1 if any figure is off, a negative control failed to show the
// failure, or the fuzz found a failure or a crash. See docs/reliability.md.
//   npm run chaos -- [--size full|ci] [--only broker-kill,role-kill,fuzz] [--no-controls] [--seed N]
// Each scenario's negative control runs beside it, on the same cluster, under the same fault.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatReport, runScenario, SCENARIOS, startChaosRun } from '../services/burnrate/chaos/index.js';
import { runFuzz, splitTotal } from '../services/burnrate/src/fuzz/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'full' },
    only: { type: 'string' },
    'no-controls': { type: 'boolean', default: false },
    seed: { type: 'string' },
  },
});
const size = values.size === 'ci' ? 'ci' : 'full';
const only = values.only?.split(',').map((s) => s.trim());
const unknown = only?.filter((n) => n !== 'fuzz' && !SCENARIOS.some((s) => s.name === n)) ?? [];
if (unknown.length > 0) {
  console.error(
    `[chaos] unknown scenario ${unknown.join(', ')} (known: ${[...SCENARIOS.map((s) => s.name), 'fuzz'].join(', ')})`,
  );
  process.exit(2);
}
const scenarios = SCENARIOS.filter((s) => !only || only.includes(s.name));
const log = (line: string) => console.log(`[chaos] ${new Date().toISOString().slice(11, 19)} ${line}`);
const run = await startChaosRun({
  rootDir: root,
  portBase: Number(process.env.CHAOS_PORT_BASE ?? 19500),
  stateDir: join(root, '.burnrate/chaos'),
  log,
});
let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  await run.stop();
  process.exit(code);
};
process.once('SIGINT', () => void stop(130));
process.once('SIGTERM', () => void stop(143));
// A bug in the run must not leave the cluster (and Redis) running: stop them, then fail.
const crash = (error: unknown) => {
  console.error('[chaos] failed:', error);
  void stop(1);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

const lines: string[] = [];
let failed = 0;
for (const scenario of scenarios) {
  const controls = !values['no-controls'];
  log(
    `${scenario.name}: ${scenario.title} (${size})${controls ? `; negative control: ${scenario.control}` : ''}`,
  );
  for (const report of await runScenario(run, scenario, { size, controls })) {
    lines.push(formatReport(report));
    console.log(lines.at(-1));
    if (!report.ok) failed++;
  }
}
if (!only || only.includes('fuzz')) {
  // The reduced size is the fuzz of `npm test` (services/burnrate/test/fuzz).
  const counts = size === 'full' ? splitTotal(100_000) : { decoder: 3_000, enricher: 1_050, http: 360 };
  log(`fuzz: ${counts.decoder + counts.enricher + counts.http} mutated events on the cluster`);
  const started = Date.now();
  const result = await runFuzz({
    ...(values.seed === undefined ? {} : { seed: Number(values.seed) }),
    counts,
    brokers: run.cluster.brokers,
    redisUrl: run.redis.url,
    log,
  }).catch((error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }));
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if ('error' in result) {
    lines.push(`FAIL fuzz: error: ${result.error} [${seconds} s]`);
    failed++;
  } else {
    console.log(result.text);
    const ok = result.failures === 0 && result.crashes === 0;
    if (!ok) failed++;
    const cases = result.reports.reduce((n, r) => n + r.cases, 0);
    lines.push(
      `${ok ? 'OK  ' : 'FAIL'} fuzz: ${cases} cases, failures ${result.failures}, crashes ${result.crashes}, seed ${result.seed} [${seconds} s]`,
    );
  }
  console.log(lines.at(-1));
}
console.log(`\n[chaos] summary (${size}):`);
for (const line of lines) console.log(line);
console.log(failed === 0 ? '[chaos] every scenario exact, every control caught' : `[chaos] ${failed} failed`);
await stop(failed === 0 ? 0 : 1);
