import { variantsOf, withPipelines } from '../run-scenario.js';
import { type Scenario, sleep } from '../scenario.js';

/**
 * Every role process (ClickHouse's owner included) SIGKILLed at the same moment, and all started
 * again; `times` times during the run. Control: the ledger's deduplication and the aggregator's
 * watermark off.
 */
export const allKilled: Scenario = {
  name: 'all-killed',
  title: 'all roles SIGKILLed at once and restarted',
  control: 'ledger deduplication and aggregator watermark off',
  async run(run, { size, controls }) {
    const full = size === 'full';
    const rate = full ? 2_000 : 1_000;
    const seconds = full ? 90 : 25;
    const times = full ? 3 : 1;
    const variants = variantsOf(controls, (control) => ({
      events: rate * seconds,
      env: {
        LEDGER_COMMIT_DELAY_MS: '1500',
        AGGREGATOR_COMMIT_DELAY_MS: '1500',
        ...(control ? { LEDGER_DEDUP: 'false', AGGREGATOR_WATERMARK: 'false' } : {}),
      },
    }));
    return withPipelines(run, { size, name: 'all-killed', variants }, async (ps) => {
      const loads = ps.map((p) => p.startLoad(rate));
      const roles = () => ps.flatMap((p) => p.all());
      for (let t = 0; t < times; t++) {
        await sleep((seconds * 1000) / (times + 1));
        await Promise.all(roles().map((r) => r.ready(120_000).catch(() => {})));
        await Promise.all(roles().map((r) => r.kill()));
        run.log(`all-killed: every role SIGKILLed (${t + 1}/${times})`);
      }
      return { loads, notes: [`all ${ps[0]!.all().length} role processes killed ${times}×`] };
    });
  },
};
