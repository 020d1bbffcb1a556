import { describe, expect, it } from 'vitest';
import { type Component, createLifecycle } from '../../src/runtime/lifecycle.js';
import { silentLogger } from '../fixtures.js';

/** A component whose start() resolves only when the test says so, recording what happened in order. */
function component(name: string, journal: string[], opts: { startFails?: boolean } = {}) {
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  const c: Component & { release: () => void } = {
    name,
    release,
    async start() {
      journal.push(`start ${name}`);
      await released;
      if (opts.startFails) throw new Error(`${name} cannot start`);
      journal.push(`started ${name}`);
    },
    async stop() {
      journal.push(`stop ${name}`);
    },
  };
  return c;
}

const tick = () => new Promise((r) => setImmediate(r));

describe('lifecycle', () => {
  it('starts in order and stops in reverse, once', async () => {
    const journal: string[] = [];
    const [a, b] = [component('a', journal), component('b', journal)];
    a.release();
    b.release();
    const lifecycle = createLifecycle([a, b], silentLogger, 1_000);
    expect(await lifecycle.start()).toBe(true);
    await Promise.all([lifecycle.stop(), lifecycle.stop()]);
    expect(journal).toEqual(['start a', 'started a', 'start b', 'started b', 'stop b', 'stop a']);
  });

  it('a stop during start-up stops what started, including the one starting, and starts nothing after it', async () => {
    const journal: string[] = [];
    const [a, b, c] = [component('a', journal), component('b', journal), component('c', journal)];
    a.release();
    const lifecycle = createLifecycle([a, b, c], silentLogger, 1_000);
    const starting = lifecycle.start();
    while (!journal.includes('start b')) await tick();
    const stopping = lifecycle.stop();
    b.release();
    c.release();
    expect(await starting).toBe(false);
    await stopping;
    expect(journal).toEqual(['start a', 'started a', 'start b', 'started b', 'stop b', 'stop a']);
    expect(lifecycle.stopping).toBe(true);
  });

  it('a start that hangs does not hold the stop past its grace period', async () => {
    const journal: string[] = [];
    const [a, hung, later] = [
      component('a', journal),
      component('hung', journal),
      component('later', journal),
    ];
    a.release();
    const lifecycle = createLifecycle([a, hung, later], silentLogger, 600);
    const starting = lifecycle.start();
    while (!journal.includes('start hung')) await tick();
    const t0 = Date.now();
    await lifecycle.stop();
    expect(Date.now() - t0).toBeLessThan(600);
    expect(journal).toEqual(['start a', 'started a', 'start hung', 'stop hung', 'stop a']);
    hung.release();
    expect(await starting).toBe(false);
    expect(journal).not.toContain('start later');
  });

  it('a component that fails to start stops the ones before it and reports the failure', async () => {
    const journal: string[] = [];
    const a = component('a', journal);
    const bad = component('bad', journal, { startFails: true });
    a.release();
    bad.release();
    const lifecycle = createLifecycle([a, bad, component('c', journal)], silentLogger, 1_000);
    await expect(lifecycle.start()).rejects.toThrow('bad cannot start');
    expect(journal).toEqual(['start a', 'started a', 'start bad', 'stop a']);
  });
});
