import { variantsOf, withPipelines } from '../run-scenario.js';
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
  async run(run, { size, controls }) {
    const full = size === 'full';
    const rate = full ? 2_000 : 1_000;
    const events = rate * (full ? 90 : 30);
    const [blackholeMs, refuseMs] = full ? [10_000, 20_000] : [5_000, 10_000];
    const variants = variantsOf(controls, (control) => ({
      events,
      ...(control ? { env: { LEDGER_DEDUP: 'false' } } : {}),
    }));
    return withPipelines(run, { size, name: 'clickhouse-away', variants }, async (ps) => {
      const loads = ps.map((p) => p.startLoad(rate));
      await sleep(full ? 15_000 : 8_000);
      await Promise.all(ps.map((p) => p.proxy.setMode('blackhole')));
      run.log(`clickhouse-away: ClickHouse answers dropped for ${blackholeMs / 1000} s`);
      await sleep(blackholeMs);
      await Promise.all(ps.map((p) => p.proxy.setMode('refuse')));
      run.log(`clickhouse-away: ClickHouse connections refused for ${refuseMs / 1000} s`);
      await sleep(refuseMs);
      await Promise.all(ps.map((p) => p.proxy.setMode('pass')));
      run.log('clickhouse-away: ClickHouse reachable again');
      return {
        loads,
        notes: [
          `ClickHouse away ${(blackholeMs + refuseMs) / 1000} s (${blackholeMs / 1000} s answers lost)`,
        ],
      };
    });
  },
};
