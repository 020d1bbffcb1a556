import type { Scenario } from './scenario.js';
import { brokerKill } from './scenarios/broker-kill.js';

export * from './chaos-run.js';
export * from './scenario.js';

/** Every scenario, in the order `npm run chaos` runs them. */
export const SCENARIOS: Scenario[] = [brokerKill];
