import { withPipeline } from '../run-scenario.js';
import { type Scenario, sleep, until } from '../scenario.js';

/**
 * SIGKILL of the leader of usage.events partition 0, `kills` times under load, each node started
 * again and back in sync before the next kill. Control: the producer gives up after one failed send.
 */
export const brokerKill: Scenario = {
  name: 'broker-kill',
  title: 'SIGKILL of the partition leader broker, restarted, under load',
  control: 'producer without retries (one send attempt per batch)',
  async run(run, { size, control }) {
    const full = size === 'full';
    const kills = full ? 5 : 1;
    const rate = full ? 5_000 : 1_000;
    const cycleSeconds = 25;
    const events = rate * (10 + kills * cycleSeconds);
    return withPipeline(run, { size, name: `broker-kill${control ? '-control' : ''}`, events }, async (p) => {
      const load = p.startLoad(rate, control ? { maxAttempts: 1 } : {});
      const notes: string[] = [];
      await sleep(8_000);
      for (let k = 0; k < kills; k++) {
        const started = Date.now();
        const leader = await run.cluster.leaderOf(p.topics.events, 0);
        const node = run.cluster.node(leader);
        await node.kill();
        run.log(`${p.name}: SIGKILL of node ${leader}, leader of ${p.topics.events}/0`);
        await until(async () => (await run.cluster.leaderOf(p.topics.events, 0)) > 0, 60_000, 'a new leader');
        await sleep(3_000);
        await node.start();
        await until(
          async () => (await run.cluster.underReplicated()) === 0,
          120_000,
          'every replica in sync',
        );
        notes.push(`killed node ${leader}`);
        const rest = cycleSeconds * 1000 - (Date.now() - started);
        if (k < kills - 1 && rest > 0) await sleep(rest);
      }
      return { load: await load.done, notes };
    });
  },
};
