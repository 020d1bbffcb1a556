import { withPipeline } from '../run-scenario.js';
import { type Scenario, sleep } from '../scenario.js';

/**
 * The webhook receiver answers 500 to everything for a while (2 minutes at full size) as alerts fire;
 * afterwards every alert must have been delivered, each id at least once. Control: one attempt per
 * delivery (no retries).
 */
export const webhookFailing: Scenario = {
  name: 'webhook-failing',
  title: 'the webhook receiver failing (HTTP 500) while alerts fire',
  control: 'one delivery attempt (NOTIFIER_ATTEMPTS=1)',
  async run(run, { size, control }) {
    const full = size === 'full';
    const rate = 1_000;
    const seconds = full ? 150 : 30;
    const failingMs = full ? 120_000 : 20_000;
    const env: Record<string, string> = control ? { NOTIFIER_ATTEMPTS: '1' } : {};
    const name = `webhook-failing${control ? '-control' : ''}`;
    return withPipeline(run, { size, name, events: rate * seconds, env }, async (p) => {
      const load = p.startLoad(rate);
      await sleep(3_000);
      p.receiver.setFailing(true);
      run.log(`${p.name}: the receiver answers 500 for ${failingMs / 1000} s`);
      await sleep(failingMs);
      p.receiver.setFailing(false);
      run.log(`${p.name}: the receiver answers 204 again`);
      return { load: await load.done, notes: [`receiver failing ${failingMs / 1000} s`] };
    });
  },
};
