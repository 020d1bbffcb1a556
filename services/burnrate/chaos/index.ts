import type { Scenario } from './scenario.js';
import { allKilled } from './scenarios/all-killed.js';
import { brokerKill } from './scenarios/broker-kill.js';
import { brokerStopped } from './scenarios/broker-stopped.js';
import { clickhouseAway } from './scenarios/clickhouse-away.js';
import { redisRestart } from './scenarios/redis-restart.js';
import { roleKill } from './scenarios/role-kill.js';
import { webhookFailing } from './scenarios/webhook-failing.js';
import { zombie } from './scenarios/zombie.js';

export * from './chaos-run.js';
export type { ChaosRun } from './pipeline.js';
export * from './scenario.js';

/** Every scenario, in the order `npm run chaos` runs them. */
export const SCENARIOS: Scenario[] = [
  brokerKill,
  roleKill,
  zombie,
  clickhouseAway,
  redisRestart,
  webhookFailing,
  allKilled,
  brokerStopped,
];
