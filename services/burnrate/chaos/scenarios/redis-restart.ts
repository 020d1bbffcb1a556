import { variantsOf, withPipelines } from '../run-scenario.js';
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
  async run(run, { size, controls }) {
    const full = size === 'full';
    const rate = full ? 2_000 : 1_000;
    const seconds = full ? 90 : 25;
    const variants = variantsOf(controls, (control) => ({
      events: rate * seconds,
      ...(control ? { env: { AGGREGATOR_WATERMARK: 'false' } } : {}),
    }));
    return withPipelines(run, { size, name: 'redis-restart', variants }, async (ps) => {
      const loads = ps.map((p) => p.startLoad(rate));
      await sleep(seconds * 400);
      await run.redis.restartEmpty();
      run.log('redis-restart: Redis restarted empty');
      return { loads, notes: ['Redis restarted empty at 40 % of the events'] };
    });
  },
};
