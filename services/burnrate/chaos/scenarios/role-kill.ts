import type { Pipeline, RoleName } from '../pipeline.js';
import { variantsOf, withPipelines } from '../run-scenario.js';
import { type Scenario, sleep, until } from '../scenario.js';

const ROLES: RoleName[] = ['enricher', 'ledger', 'aggregator', 'notifier', 'clickhouse'];

/**
 * SIGKILL of each role process in turn, `kills` times each, while events flow; the supervisor starts
 * each again. The ledger and the aggregator hold each batch a while between storing it and committing
 * it, so kills land in the window that matters. Control: the ledger's replay guard and insert
 * deduplication off, and the aggregator's watermark off.
 */
export const roleKill: Scenario = {
  name: 'role-kill',
  title: `SIGKILL of each role (${ROLES.join(', ')}) in turn while events flow`,
  control: 'ledger deduplication and aggregator watermark off',
  async run(run, { size, controls }) {
    const full = size === 'full';
    const kills = full ? 10 : 1;
    // 200,000 events over 133 s at full size: the 50 kills (a restart takes 5-10 s here) land while they flow.
    const rate = full ? 1_500 : 1_000;
    const events = full ? 200_000 : 20_000;
    const variants = variantsOf(controls, (control) => ({
      events,
      env: {
        LEDGER_COMMIT_DELAY_MS: '1500',
        AGGREGATOR_COMMIT_DELAY_MS: '1500',
        ...(control ? { LEDGER_DEDUP: 'false', AGGREGATOR_WATERMARK: 'false' } : {}),
      },
    }));
    return withPipelines(run, { size, name: 'role-kill', variants }, async (ps) => {
      const loads = ps.map((p) => p.startLoad(rate));
      const intervalMs = ((events / rate) * 1000 * 0.9) / (kills * ROLES.length);
      let done = 0;
      await sleep(Math.min(5_000, intervalMs));
      for (let k = 0; k < kills; k++) {
        for (const kind of ROLES) {
          await Promise.all(ps.map((p) => killInWindow(p, kind)));
          done++;
          await sleep(intervalMs);
        }
      }
      return { loads, notes: [`${done} kills (${kills} per role)`] };
    });
  },
};

/** SIGKILL of the pipeline's `kind` process once it runs; the ledger and the aggregator right after they stored something. */
async function killInWindow(p: Pipeline, kind: RoleName) {
  const role = p.roles[kind][0]!;
  // A kill before it is running again proves nothing new.
  await role.ready(120_000).catch(() => {});
  // Inside the window between storing a batch and committing its offset (each holds it 1.5 s).
  const watched = kind === 'ledger' ? 'facts' : kind === 'aggregator' ? 'redisEvents' : undefined;
  if (watched) {
    const before = (await p.progress())[watched];
    await until(async () => (await p.progress())[watched] > before, 30_000, `${kind} progress`).catch(
      () => {},
    );
  }
  await role.kill();
}
