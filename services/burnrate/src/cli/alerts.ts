import { setTimeout as sleep } from 'node:timers/promises';
import { BurnrateError, ValidationError } from '@burnrate/core';
import { Command } from 'commander';
import { type Config, loadConfig } from '../config/load.js';
import { aggregateKeys } from '../redis/aggregate-keys.js';
import { bullPrefix } from '../runtime/alerting-roles.js';
import { deliveriesQueue, enable, openRedis, printFailed, replay } from './alerts-deliveries.js';
import { alertsOnRecord, alertTable, printAlerts } from './alerts-history.js';
import { openReadDb, withReadDb } from './kit/clickhouse.js';
import { wholeNumber, withListOptions } from './kit/options.js';
import { type CliOutput, processOutput, toJson } from './kit/output.js';
import { resolvePeriod, withPeriodOptions } from './kit/period.js';

/** `list` shows at most this many alerts unless --limit says otherwise. */
export const DEFAULT_LIST_LIMIT = 100;

interface ListOptions {
  from?: string;
  to?: string;
  limit?: number;
  json?: boolean;
}

/**
 * `burnrate alerts …`: for on-call — what failed to reach its destination, sending it again, and
 * what fired. `stopSignal` is asked for once by `tail`, which follows until it aborts (Ctrl-C).
 */
export function createAlertsCommand(
  output: CliOutput = processOutput,
  stopSignal: () => AbortSignal = () => new AbortController().signal,
): Command {
  const alerts = new Command('alerts').description(
    'failed deliveries, replaying them, re-enabling a destination, and the alerts on record',
  );
  alerts
    .command('failed')
    .description('delivery jobs that failed for good (all attempts used, 4xx, refused, or 410 Gone)')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => withRedis((deps) => printFailed(deps, Boolean(o.json), output)));
  alerts
    .command('replay')
    .description('send failed deliveries again, with a fresh set of attempts')
    .argument('[job id]', 'a job id from `burnrate alerts failed`')
    .option('--all', 'every failed delivery')
    .action((jobId: string | undefined, o: { all?: boolean }) => {
      const all = Boolean(o.all);
      if (all && jobId !== undefined) {
        throw new ValidationError('--all', 'Give either a job id or --all, not both.', 'invalid_argument');
      }
      if (!all && jobId === undefined) {
        throw new ValidationError(
          'job id',
          'burnrate alerts replay needs a job id (see burnrate alerts failed) or --all.',
          'invalid_argument',
        );
      }
      return withRedis((deps, config) =>
        replay({ ...deps, topicPrefix: config.BURNRATE_TOPIC_PREFIX }, { jobId, all }, output),
      );
    });
  alerts
    .command('enable')
    .description('re-enable a destination disabled after it answered 410 Gone')
    .argument('<destination>', 'a destination name, as in the alerting file')
    .action((destination: string) => withRedis((deps) => enable(deps, destination, output)));
  withListOptions(
    withPeriodOptions(alerts.command('list').description('the alerts on record in ClickHouse, newest first')),
    DEFAULT_LIST_LIMIT,
    100_000,
  ).action(async (o: ListOptions) => {
    const period = resolvePeriod(o, Date.now());
    const range = { ...period, limit: o.limit ?? DEFAULT_LIST_LIMIT };
    const config = loadConfig();
    await withReadDb(config, async (db) =>
      printAlerts(await alertsOnRecord(db, range), range, Boolean(o.json), output),
    );
  });
  alerts
    .command('tail')
    .description('print alerts as they are recorded, until Ctrl-C')
    .option('--interval <seconds>', 'how often to look (default: 2)', wholeNumber('--interval', 3600))
    .option('--json', 'one JSON document per alert')
    .action(async (o: { interval?: number; json?: boolean }) => {
      const signal = stopSignal();
      await tail(
        loadConfig(),
        { intervalMs: (o.interval ?? 2) * 1000, json: Boolean(o.json) },
        output,
        signal,
      );
    });
  return alerts;
}

/**
 * Waits `ms`, or less when `signal` aborts (the normal stop: Ctrl-C). Leaves no listener on the
 * signal behind, however many polls a tail makes.
 */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
  }
}

/**
 * Follows the alerts table: every poll reads what was recorded since the newest alert seen (less a
 * margin for late inserts), and prints the message ids not printed yet.
 */
async function tail(
  config: Config,
  o: { intervalMs: number; json: boolean },
  output: CliOutput,
  signal: AbortSignal,
): Promise<void> {
  const db = await openReadDb(config);
  const seen = new Set<string>();
  let sinceMs = Date.now();
  let header = true;
  if (!o.json) output.err('Following new alerts; Ctrl-C stops.\n');
  try {
    while (!signal.aborted) {
      const fresh = (
        await alertsOnRecord(db, { fromMs: sinceMs - 60_000, toMs: Date.now() + 86_400_000, limit: 100_000 })
      ).filter((a) => !seen.has(a.message_id));
      fresh.reverse();
      for (const a of fresh) {
        seen.add(a.message_id);
        sinceMs = Math.max(sinceMs, Date.parse(a.at));
      }
      if (fresh.length > 0) {
        if (o.json) for (const a of fresh) output.out(toJson(a));
        else output.out(alertTable(fresh, header));
        header = false;
      }
      await pause(o.intervalMs, signal);
    }
  } finally {
    await db.close();
  }
}

async function withRedis(
  body: (
    deps: {
      redis: Awaited<ReturnType<typeof openRedis>>;
      keys: ReturnType<typeof aggregateKeys>;
      queue: ReturnType<typeof deliveriesQueue>;
    },
    config: Config,
  ) => Promise<void>,
): Promise<void> {
  const config = loadConfig();
  const redis = await openRedis(config.REDIS_URL);
  const keys = aggregateKeys(config.BURNRATE_TOPIC_PREFIX);
  const queue = deliveriesQueue(redis, bullPrefix(config.BURNRATE_TOPIC_PREFIX));
  try {
    await body({ redis, keys, queue }, config);
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
