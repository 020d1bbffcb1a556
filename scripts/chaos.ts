// `npm run chaos`: every chaos scenario at full size against a 3-node Kafka cluster, every role its
// own OS process; one line per scenario with its figures; exit code 1 if any figure is off (or a
// negative control failed to show the failure). See docs/reliability.md.
//   npm run chaos -- [--size full|ci] [--only broker-kill,role-kill] [--no-controls] [--full-controls]
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatReport, runScenario, SCENARIOS, startChaosRun } from '../services/burnrate/chaos/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'full' },
    only: { type: 'string' },
    'no-controls': { type: 'boolean', default: false },
    'full-controls': { type: 'boolean', default: false },
  },
});
const size = values.size === 'ci' ? 'ci' : 'full';
const only = values.only?.split(',').map((s) => s.trim());
const unknown = only?.filter((n) => !SCENARIOS.some((s) => s.name === n)) ?? [];
if (unknown.length > 0) {
  console.error(
    `[chaos] unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`,
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

const lines: string[] = [];
let failed = 0;
for (const scenario of scenarios) {
  log(`${scenario.name}: ${scenario.title} (${size})`);
  const report = await runScenario(run, scenario, { size, control: false });
  lines.push(formatReport(report));
  console.log(lines.at(-1));
  if (!report.ok) failed++;
  if (values['no-controls']) continue;
  // Controls run at the reduced size unless asked: they only have to show one figure off.
  const controlSize = values['full-controls'] ? size : 'ci';
  log(`${scenario.name}: negative control — ${scenario.control} (${controlSize})`);
  const control = await runScenario(run, scenario, { size: controlSize, control: true });
  lines.push(formatReport(control));
  console.log(lines.at(-1));
  if (!control.ok) failed++;
}
console.log(`\n[chaos] summary (${size}):`);
for (const line of lines) console.log(line);
console.log(failed === 0 ? '[chaos] every scenario exact, every control caught' : `[chaos] ${failed} failed`);
await stop(failed === 0 ? 0 : 1);
