import { withPipeline } from '../run-scenario.js';
import { type Scenario, sleep } from '../scenario.js';

/**
 * Redis (the run's own, without persistence) SIGKILLed and started again empty mid-run: aggregates,
 * alert states, queues and dedup memory are gone. The aggregator must rebuild from ClickHouse and
 * the alerts must neither fire twice nor go undelivered. Control: the aggregator's watermark (and
 * with it the rebuild) off.
 */
export const redisRestart: Scenario = {
  name: 'redis-restart',
  title: 'Redis restarted without persistence mid-run',
  control: 'aggregator watermark and rebuild off',
  async run(run, { size, control }) {
    const full = size === 'full';
    const rate = full ? 2_000 : 1_000;
    const seconds = full ? 90 : 30;
    const env: Record<string, string> = control ? { AGGREGATOR_WATERMARK: 'false' } : {};
    const name = `redis-restart${control ? '-control' : ''}`;
    return withPipeline(run, { size, name, events: rate * seconds, env }, async (p) => {
      const load = p.startLoad(rate);
      await sleep(seconds * 400);
      await run.redis.restartEmpty();
      run.log(`${p.name}: Redis restarted empty`);
      return { load: await load.done, notes: ['Redis restarted empty at 40 % of the events'] };
    });
  },
};
