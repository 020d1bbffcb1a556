import type { Logger } from 'pino';

/** What every role and shared client is to the process: something that starts and stops. */
export interface Component {
  name: string;
  start(): Promise<void>;
  /** Idempotent; may be called while start() is still running (a stop signal during start-up). */
  stop(): Promise<void>;
}

export interface Lifecycle {
  /**
   * Starts the components in order. Resolves true once all have started, false if stop() was called
   * meanwhile (the components that had started are stopped, and no later one starts). Rejects with
   * the failure of a component that could not start, after stopping the ones before it.
   */
  start(): Promise<boolean>;
  /** Stops in reverse order of start, once; each step bounded by what is left of the deadline. */
  stop(): Promise<void>;
  /** True once stop() has been called. */
  readonly stopping: boolean;
}

/** How long stop() lets a component that is still starting finish before stopping it anyway. */
const IN_FLIGHT_GRACE_MS = 2_000;

export function createLifecycle(components: Component[], logger: Logger, timeoutMs: number): Lifecycle {
  const started: Component[] = [];
  let current: { component: Component; done: Promise<unknown> } | undefined;
  let stopping: Promise<void> | undefined;

  async function bounded(what: string, work: Promise<unknown>, deadline: number): Promise<void> {
    const left = Math.max(1, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        work,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${what} did not finish within ${left} ms`)), left);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      const deadline = Date.now() + timeoutMs;
      // A component still starting gets a moment to finish; then it is stopped anyway, so a start
      // that hangs (a broker that never answers) cannot hold the process.
      const inFlight = current;
      if (inFlight) {
        const grace = Math.min(timeoutMs / 2, IN_FLIGHT_GRACE_MS);
        await bounded(`starting ${inFlight.component.name}`, inFlight.done, Date.now() + grace).catch(
          () => {},
        );
        if (!started.includes(inFlight.component)) started.push(inFlight.component);
      }
      for (const c of started.splice(0).reverse()) {
        try {
          await bounded(`${c.name} stop`, c.stop(), deadline);
          logger.debug({ component: c.name }, 'stopped');
        } catch (error) {
          logger.error({ err: error, component: c.name }, 'stopping failed');
        }
      }
    })();
    return stopping;
  }

  return {
    get stopping() {
      return stopping !== undefined;
    },
    async start(): Promise<boolean> {
      for (const component of components) {
        if (stopping) return false;
        const done = component.start();
        current = { component, done: done.catch(() => {}) };
        try {
          await done;
        } catch (error) {
          current = undefined;
          if (stopping) return false;
          await stop();
          throw error;
        }
        current = undefined;
        if (stopping) {
          // stop() began while this one was starting and will stop it with the others.
          return false;
        }
        started.push(component);
        logger.debug({ component: component.name }, 'started');
      }
      return true;
    },
    stop,
  };
}
