import { variantsOf, withPipelines } from '../run-scenario.js';
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
  async run(run, { size, controls }) {
    const full = size === 'full';
    const rate = full ? 2_000 : 1_000;
    const downMs = full ? 60_000 : 15_000;
    const seconds = (downMs + (full ? 40_000 : 25_000)) / 1000;
    const variants = variantsOf(controls, (control) => ({
      events: rate * seconds,
      ...(control ? { replicationFactor: 1 } : {}),
    }));
    return withPipelines(run, { size, name: 'broker-stopped', variants }, async (ps) => {
      const loads = ps.map((p) => p.startLoad(rate, p.control ? { maxAttempts: 1 } : {}));
      await sleep(8_000);
      // The control's partition 0 has a single replica: stop the node holding it if there is a
      // control, so it loses that partition outright; the guarded pipeline loses a leader either way.
      const topic = (ps.find((p) => p.control) ?? ps[0]!).topics.events;
      const leader = await run.cluster.leaderOf(topic, 0);
      const node = run.cluster.node(leader);
      await node.stop();
      run.log(`broker-stopped: node ${leader} (leader of ${topic}/0) stopped for ${downMs / 1000} s`);
      try {
        await sleep(downMs);
      } finally {
        await node.start();
      }
      await until(async () => (await run.cluster.underReplicated()) === 0, 180_000, 'every replica in sync');
      run.log(`broker-stopped: node ${leader} back in sync`);
      return { loads, notes: [`node ${leader} down ${downMs / 1000} s`] };
    });
  },
};
