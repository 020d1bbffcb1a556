import { withPipeline } from '../run-scenario.js';
import { type Scenario, sleep } from '../scenario.js';

/**
 * ClickHouse unreachable: the proxy the roles reach it through first swallows every answer (inserts
 * land, their acknowledgements never arrive: the ledger must retry without storing twice), then
 * refuses connections, then passes again. Control: the ledger's deduplication off.
 */
export const clickhouseAway: Scenario = {
  name: 'clickhouse-away',
  title: 'ClickHouse unreachable (answers lost, then connections refused) while events flow',
  control: 'ledger deduplication off',
  async run(run, { size, control }) {
    const full = size === 'full';
    const rate = full ? 2_000 : 1_000;
    const events = rate * (full ? 90 : 35);
    const [blackholeMs, refuseMs] = full ? [10_000, 20_000] : [5_000, 10_000];
    const env: Record<string, string> = control ? { LEDGER_DEDUP: 'false' } : {};
    const name = `clickhouse-away${control ? '-control' : ''}`;
    return withPipeline(run, { size, name, events, env }, async (p) => {
      const load = p.startLoad(rate);
      await sleep(full ? 15_000 : 8_000);
      await p.proxy.setMode('blackhole');
      run.log(`${p.name}: ClickHouse answers dropped for ${blackholeMs / 1000} s`);
      await sleep(blackholeMs);
      await p.proxy.setMode('refuse');
      run.log(`${p.name}: ClickHouse connections refused for ${refuseMs / 1000} s`);
      await sleep(refuseMs);
      await p.proxy.setMode('pass');
      run.log(`${p.name}: ClickHouse reachable again`);
      return {
        load: await load.done,
        notes: [
          `ClickHouse away ${(blackholeMs + refuseMs) / 1000} s (${blackholeMs / 1000} s answers lost)`,
        ],
      };
    });
  },
};
