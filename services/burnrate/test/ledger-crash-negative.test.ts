import { describe, expect, it } from 'vitest';
import { crashRun, EVENTS, KILLS } from './ledger-crash-harness.js';

// The negative control: with the replay guard and insert deduplication switched off, the same kills
// must leave duplicate rows. If this ever passes with exact counts, the crash test proves nothing.
describe('ledger under SIGKILL without deduplication (negative control)', () => {
  it(`double-counts some of ${EVENTS} events across ${KILLS} kills`, async () => {
    const { facts } = await crashRun(false, `nodedup${Date.now()}.`);
    expect(Number(facts.ids)).toBe(EVENTS);
    expect(Number(facts.n)).toBeGreaterThan(EVENTS);
  }, 600_000);
});
