import type { RoleProcess } from '../role-process.js';
import { withPipeline } from '../run-scenario.js';
import { type Scenario, sleep } from '../scenario.js';

/**
 * SIGSTOP of one of two enrichers and one of two ledgers, past the group session timeout (10 s), then
 * SIGCONT. Meanwhile their partitions move to the other instance; the thawed zombie must not write
 * what it held. Each holds its batch a second (the enricher between its writes and its commit, the
 * ledger between reading and storing), so the freeze lands there. Control: the enricher without
 * transactions and the ledger without its group check before inserting.
 */
export const zombie: Scenario = {
  name: 'zombie',
  title: 'SIGSTOP of an enricher and of a ledger past the session timeout, then SIGCONT',
  control: 'enricher without transactions, ledger without the group check before insert',
  async run(run, { size, control }) {
    const full = size === 'full';
    const rate = full ? 2_000 : 1_000;
    const events = rate * (full ? 90 : 40);
    const frozenMs = full ? 25_000 : 20_000;
    const env: Record<string, string> = {
      ENRICHER_COMMIT_DELAY_MS: '1000',
      LEDGER_INSERT_DELAY_MS: '1000',
      ...(control ? { ENRICHER_TRANSACTIONAL: 'false', LEDGER_FENCE: 'false' } : {}),
    };
    const name = `zombie${control ? '-control' : ''}`;
    return withPipeline(run, { size, name, events, env, enrichers: 2, ledgers: 2 }, async (p) => {
      const load = p.startLoad(rate);
      const notes: string[] = [];
      const freeze = async (roles: RoleProcess[]) => {
        for (const r of roles) r.freeze();
        run.log(`${p.name}: SIGSTOP ${roles.map((r) => r.name).join(', ')} for ${frozenMs / 1000} s`);
        await sleep(frozenMs);
        const thawedAt = Date.now();
        for (const r of roles) r.thaw();
        run.log(`${p.name}: SIGCONT ${roles.map((r) => r.name).join(', ')}`);
        return thawedAt;
      };
      const after = (r: RoleProcess, at: number) => async () => {
        await sleep(15_000);
        const exits = r.exits().filter((e) => e.atMs >= at && !e.deliberate);
        notes.push(
          `${r.name} frozen ${frozenMs / 1000} s, then ${exits.length ? `exited with code ${exits.map((e) => e.code).join(',')}` : 'stayed up'}`,
        );
      };
      await sleep(8_000);
      const [enricher, ledger] = [p.roles.enricher[0]!, p.roles.ledger[0]!];
      if (full) {
        await after(enricher, await freeze([enricher]))();
        await after(ledger, await freeze([ledger]))();
      } else {
        const at = await freeze([enricher, ledger]);
        await Promise.all([after(enricher, at)(), after(ledger, at)()]);
      }
      return { load: await load.done, notes };
    });
  },
};
