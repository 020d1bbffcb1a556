import type { RoleProcess } from '../role-process.js';
import { variantsOf, withPipelines } from '../run-scenario.js';
import { type Scenario, sleep } from '../scenario.js';

/**
 * SIGSTOP of one of two enrichers and one of two ledgers, past the group session timeout (10 s), then
 * SIGCONT. Meanwhile their partitions move to the other instance; the thawed zombie must not write
 * what it held. Each holds its batch 3 s (the enricher between its writes and its commit, the
 * ledger between reading and storing), so the freeze lands there. Control: the enricher without
 * transactions and the ledger without its group check before inserting.
 */
export const zombie: Scenario = {
  name: 'zombie',
  title: 'SIGSTOP of an enricher and of a ledger past the session timeout, then SIGCONT',
  control: 'enricher without transactions, ledger without the group check before insert',
  async run(run, { size, controls }) {
    const full = size === 'full';
    const rate = full ? 2_000 : 1_000;
    const events = rate * (full ? 90 : 40);
    const frozenMs = full ? 25_000 : 20_000;
    const variants = variantsOf(controls, (control) => ({
      events,
      enrichers: 2,
      ledgers: 2,
      env: {
        ENRICHER_COMMIT_DELAY_MS: '3000',
        LEDGER_INSERT_DELAY_MS: '3000',
        ...(control ? { ENRICHER_TRANSACTIONAL: 'false', LEDGER_FENCE: 'false' } : {}),
      },
    }));
    return withPipelines(run, { size, name: 'zombie', variants }, async (ps) => {
      const loads = ps.map((p) => p.startLoad(rate));
      const notes: string[] = [];
      /** Freezes `pick(p)` of every pipeline for `frozenMs`, then watches what the zombies do for 15 s. */
      const freeze = async (pick: (p: (typeof ps)[number]) => RoleProcess[]) => {
        const roles = ps.flatMap((p) => pick(p).map((r) => ({ p, r })));
        for (const { r } of roles) r.freeze();
        run.log(`zombie: SIGSTOP ${roles.map(({ p, r }) => `${p.name}/${r.name}`).join(', ')}`);
        await sleep(frozenMs);
        const thawedAt = Date.now();
        for (const { r } of roles) r.thaw();
        run.log('zombie: SIGCONT');
        await sleep(15_000);
        for (const { p, r } of roles) {
          const exits = r.exits().filter((e) => e.atMs >= thawedAt && !e.deliberate);
          notes.push(
            `${p.name}/${r.name} frozen ${frozenMs / 1000} s, then ${exits.length ? `exited with code ${exits.map((e) => e.code).join(',')}` : 'stayed up'}`,
          );
        }
      };
      await sleep(8_000);
      if (full) {
        await freeze((p) => [p.roles.enricher[0]!]);
        await freeze((p) => [p.roles.ledger[0]!]);
      } else {
        await freeze((p) => [p.roles.enricher[0]!, p.roles.ledger[0]!]);
      }
      return { loads, notes };
    });
  },
};
