import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { pause } from '../../src/cli/alerts.js';

describe('alerts tail: the wait between polls', () => {
  it('leaves no abort listener behind after many polls, and an abort ends the wait at once', async () => {
    const controller = new AbortController();
    for (let i = 0; i < 20; i++) await pause(1, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const started = Date.now();
    const waiting = pause(60_000, controller.signal);
    controller.abort();
    await expect(waiting).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(pause(60_000, controller.signal)).resolves.toBeUndefined(); // already aborted
  });
});
