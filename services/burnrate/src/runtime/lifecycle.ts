import type { Logger } from 'pino';
import type { Component } from './app.js';

/**
 * Starts components in order; on failure stops the ones already started. `stop()` runs in reverse
 * order, once, each step bounded by what is left of `timeoutMs`, so a hung client cannot block exit.
 */
export function createLifecycle(components: Component[], logger: Logger, timeoutMs: number) {
  const started: Component[] = [];
  let stopping: Promise<void> | undefined;

  async function stop(): Promise<void> {
    stopping ??= (async () => {
      const deadline = Date.now() + timeoutMs;
      for (const c of started.splice(0).reverse()) {
        const left = Math.max(1, deadline - Date.now());
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            c.stop(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`${c.name} did not stop within ${left} ms`)), left);
            }),
          ]);
          logger.debug({ component: c.name }, 'stopped');
        } catch (error) {
          logger.error({ err: error, component: c.name }, 'stopping failed');
        } finally {
          clearTimeout(timer);
        }
      }
    })();
    return stopping;
  }

  return {
    async start(): Promise<void> {
      for (const c of components) {
        try {
          await c.start();
          started.push(c);
          logger.debug({ component: c.name }, 'started');
        } catch (error) {
          await stop();
          throw error;
        }
      }
    },
    stop,
  };
}
