import { BurnrateError } from '@burnrate/core';
import { type Config, loadConfig } from '../config/load.js';
import { aggregateKeys } from '../redis/aggregate-keys.js';
import { bullPrefix } from '../runtime/alerting-roles.js';
import { clickHouseTarget } from '../runtime/app.js';
import { ALERTS_USAGE, type AlertsArgs, parseAlertsArgs } from './alerts-args.js';
import {
  type AlertsOutput,
  deliveriesQueue,
  enable,
  openRedis,
  printFailed,
  replay,
} from './alerts-deliveries.js';
import { alertsOnRecord, openClickHouse, printAlerts } from './alerts-history.js';

export interface AlertsIo extends AlertsOutput {
  env: NodeJS.ProcessEnv;
}

const defaultIo = (): AlertsIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

/**
 * `burnrate alerts …`: failed deliveries, replaying them, re-enabling a destination, and the alerts
 * on record. Exit codes: 0 done; 1 Redis or ClickHouse failed; 2 bad arguments or an unknown job id.
 */
export async function alertsCommand(argv: string[], io: AlertsIo = defaultIo()): Promise<number> {
  let args: AlertsArgs;
  try {
    args = parseAlertsArgs(argv);
  } catch (error) {
    if (!(error instanceof BurnrateError)) throw error;
    io.stderr.write(`burnrate alerts: ${error.message}\n\n${ALERTS_USAGE}`);
    return 2;
  }
  if (args.command === 'help') {
    io.stdout.write(ALERTS_USAGE);
    return 0;
  }
  try {
    await run(args, loadConfig(io.env), io);
    return 0;
  } catch (error) {
    if (!(error instanceof BurnrateError)) throw error;
    io.stderr.write(`burnrate alerts: ${error.message}\n`);
    return error.code === 'invalid_argument' ? 2 : 1;
  }
}

async function run(args: Exclude<AlertsArgs, { command: 'help' }>, config: Config, io: AlertsIo) {
  if (args.command === 'list') {
    const target = clickHouseTarget(config);
    const client = openClickHouse(target);
    try {
      const alerts = await alertsOnRecord(client, config.CLICKHOUSE_DATABASE, args, {
        target,
        urlGiven: config.CLICKHOUSE_URL !== undefined,
      });
      printAlerts(alerts, args, args.json, io);
    } finally {
      await client.close();
    }
    return;
  }
  const redis = await openRedis(config.REDIS_URL);
  const keys = aggregateKeys(config.BURNRATE_TOPIC_PREFIX);
  const queue = deliveriesQueue(redis, bullPrefix(config.BURNRATE_TOPIC_PREFIX));
  try {
    switch (args.command) {
      case 'failed':
        return await printFailed({ redis, keys, queue }, args.json, io);
      case 'replay':
        return await replay({ redis, keys, queue, topicPrefix: config.BURNRATE_TOPIC_PREFIX }, args, io);
      case 'enable':
        return await enable({ redis, keys }, args.destination, io);
    }
  } catch (error) {
    if (error instanceof BurnrateError) throw error;
    // Connected, then lost (or refused a command): say so in a sentence, not a stack trace.
    throw new BurnrateError(
      'redis_failed',
      `Redis at ${new URL(config.REDIS_URL).host} (REDIS_URL) failed during the command (${(error as Error).message}); check it and run the command again.`,
      { retriable: true, field: 'REDIS_URL', cause: error },
    );
  } finally {
    await queue.close();
    await redis.quit().catch(() => redis.disconnect());
  }
}
