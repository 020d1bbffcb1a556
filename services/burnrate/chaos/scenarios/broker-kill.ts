import { variantsOf, withPipelines } from '../run-scenario.js';
import { type Scenario, sleep, until } from '../scenario.js';

/**
 * SIGKILL of the leader of a usage.events partition (partition k for the k-th kill, so the kills
 * go round the nodes), `kills` times under load, each node started again and back in sync before
 * the next kill. Control: topics with one replica and a producer that
 * gives up after one failed send. Replication alone would only delay events (the producer retries
 * until the node is back) and a producer without retries alone loses events only when the new leader
 * takes longer than the Kafka client's own quick retries (often, not always): with both off, every
 * kill loses what was sent to the dead node's partitions.
 */
export const brokerKill: Scenario = {
  name: 'broker-kill',
  title: 'SIGKILL of the partition leader broker, restarted, under load',
  control: 'topics with one replica and a producer without retries',
  async run(run, { size, controls }) {
    const full = size === 'full';
    const kills = full ? 5 : 1;
    const cycleSeconds = full ? 25 : 20;
    const seconds = 10 + kills * cycleSeconds;
    // The control only has to lose something: it runs beside the guarded pipeline at a lower rate.
    const rate = (control: boolean) => (full && !control ? 5_000 : 1_000);
    const variants = variantsOf(controls, (control) => ({
      events: rate(control) * seconds,
      ...(control ? { replicationFactor: 1 } : {}),
    }));
    return withPipelines(run, { size, name: 'broker-kill', variants }, async (ps) => {
      const loads = ps.map((p) => p.startLoad(rate(p.control), p.control ? { maxAttempts: 1 } : {}));
      const notes: string[] = [];
      // The control's partitions have one replica: kill the node holding one (when there is a control).
      const topic = (ps.find((p) => p.control) ?? ps[0]!).topics.events;
      const guarded = (ps.find((p) => !p.control) ?? ps[0]!).topics.events;
      /** The guarded topic's partitions `node` leads, e.g. "0,3". */
      const ledBy = async (node: number) => {
        const leaders = await Promise.all([0, 1, 2, 3].map((i) => run.cluster.leaderOf(guarded, i)));
        return leaders.flatMap((l, i) => (l === node ? [i] : [])).join(',') || 'none';
      };
      await sleep(8_000);
      for (let k = 0; k < kills; k++) {
        const started = Date.now();
        // From partition k on, the first whose leader also leads guarded partitions: that is the leader killed.
        let partition = k % 4;
        let leader = await run.cluster.leaderOf(topic, partition);
        let led = await ledBy(leader);
        for (let i = 1; i < 4 && led === 'none'; i++) {
          const next = (k + i) % 4;
          const candidate = await run.cluster.leaderOf(topic, next);
          const candidateLed = await ledBy(candidate);
          if (candidateLed !== 'none') [partition, leader, led] = [next, candidate, candidateLed];
        }
        const node = run.cluster.node(leader);
        await node.kill();
        run.log(
          `broker-kill: SIGKILL of node ${leader}, leader of ${topic}/${partition} and of ${guarded} ${led}`,
        );
        try {
          // The guarded topic's partitions that the dead node led get new leaders (the control's wait for it).
          await until(
            async () => {
              const leaders = await Promise.all([0, 1, 2, 3].map((i) => run.cluster.leaderOf(guarded, i)));
              return leaders.every((l) => l > 0 && l !== leader);
            },
            120_000,
            'new leaders',
          );
          await sleep(3_000);
        } finally {
          // Started again whatever happened: a later scenario must not find a node missing.
          await node.start();
        }
        await until(
          async () => (await run.cluster.underReplicated()) === 0,
          120_000,
          'every replica in sync',
        );
        notes.push(`killed node ${leader} (leading guarded partitions ${led})`);
        const rest = cycleSeconds * 1000 - (Date.now() - started);
        if (k < kills - 1 && rest > 0) await sleep(rest);
      }
      return { loads, notes };
    });
  },
};
