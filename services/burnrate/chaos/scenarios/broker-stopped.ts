import { withPipeline } from '../run-scenario.js';
import { type Scenario, sleep, until } from '../scenario.js';

/**
 * The broker leading usage.events partition 0 stopped (SIGTERM, controlled shutdown) and kept down
 * for a minute at full size, then started again. Control: topics with one replica and a producer
 * that gives up after one failed send — what replication and retries prevent.
 */
export const brokerStopped: Scenario = {
  name: 'broker-stopped',
  title: 'a broker stopped for 60 s, then started again',
  control: 'topics with one replica and a producer without retries',
  async run(run, { size, control }) {
    const full = size === 'full';
    const rate = full ? 2_000 : 1_000;
    const downMs = full ? 60_000 : 20_000;
    const seconds = (downMs + 40_000) / 1000;
    const name = `broker-stopped${control ? '-control' : ''}`;
    return withPipeline(
      run,
      { size, name, events: rate * seconds, ...(control ? { replicationFactor: 1 } : {}) },
      async (p) => {
        const load = p.startLoad(rate, control ? { maxAttempts: 1 } : {});
        await sleep(10_000);
        const leader = await run.cluster.leaderOf(p.topics.events, 0);
        const node = run.cluster.node(leader);
        await node.stop();
        run.log(`${p.name}: node ${leader} stopped for ${downMs / 1000} s`);
        await sleep(downMs);
        await node.start();
        await until(
          async () => (await run.cluster.underReplicated()) === 0,
          180_000,
          'every replica in sync',
        );
        run.log(`${p.name}: node ${leader} back in sync`);
        return { load: await load.done, notes: [`node ${leader} down ${downMs / 1000} s`] };
      },
    );
  },
};
