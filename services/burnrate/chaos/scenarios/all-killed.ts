import { withPipeline } from '../run-scenario.js';
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
  async run(run, { size, control }) {
    const full = size === 'full';
    const rate = full ? 2_000 : 1_000;
    const seconds = full ? 90 : 30;
    const times = full ? 3 : 1;
    const env: Record<string, string> = {
      LEDGER_COMMIT_DELAY_MS: '500',
      AGGREGATOR_COMMIT_DELAY_MS: '500',
      ...(control ? { LEDGER_DEDUP: 'false', AGGREGATOR_WATERMARK: 'false' } : {}),
    };
    const name = `all-killed${control ? '-control' : ''}`;
    return withPipeline(run, { size, name, events: rate * seconds, env }, async (p) => {
      const load = p.startLoad(rate);
      for (let t = 0; t < times; t++) {
        await sleep((seconds * 1000) / (times + 1));
        await Promise.all(p.all().map((r) => r.ready(120_000).catch(() => {})));
        await Promise.all(p.all().map((r) => r.kill()));
        run.log(`${p.name}: every role SIGKILLed (${t + 1}/${times})`);
      }
      return { load: await load.done, notes: [`all ${p.all().length} role processes killed ${times}×`] };
    });
  },
};
