import { variantsOf, withPipelines } from '../run-scenario.js';
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
  async run(run, { size, controls }) {
    const full = size === 'full';
    const rate = 1_000;
    const seconds = full ? 150 : 25;
    const failingMs = full ? 120_000 : 15_000;
    const variants = variantsOf(controls, (control) => ({
      events: rate * seconds,
      ...(control ? { env: { NOTIFIER_ATTEMPTS: '1' } } : {}),
    }));
    return withPipelines(run, { size, name: 'webhook-failing', variants }, async (ps) => {
      const loads = ps.map((p) => p.startLoad(rate));
      await sleep(3_000);
      for (const p of ps) p.receiver.setFailing(true);
      run.log(`webhook-failing: the receivers answer 500 for ${failingMs / 1000} s`);
      await sleep(failingMs);
      for (const p of ps) p.receiver.setFailing(false);
      run.log('webhook-failing: the receivers answer 204 again');
      return { loads, notes: [`receiver failing ${failingMs / 1000} s`] };
    });
  },
};
