// The body of `npm start` (see start.mjs): local stack + every role in this process + demo events.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp, createLifecycle, createLogger, loadConfig } from '@burnrate/burnrate';
import { describeStackFailure, startLocalStack } from '@burnrate/devstack';
import { pino } from 'pino';

const root = fileURLToPath(new URL('..', import.meta.url));
const say = (m: string) => console.log(`[burnrate] ${m}`);

async function main(): Promise<void> {
  let stack: Awaited<ReturnType<typeof startLocalStack>>;
  try {
    stack = await startLocalStack({
      rootDir: root,
      name: 'dev',
      kafkaBrokers: process.env.KAFKA_BROKERS,
      kafkaPort: Number(process.env.KAFKA_PORT ?? 9092),
      kafkaControllerPort: Number(process.env.KAFKA_CONTROLLER_PORT ?? 9093),
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      redisPort: 6380,
      log: say,
    });
  } catch (error) {
    console.error(`[burnrate] ${describeStackFailure(error)}`);
    process.exitCode = 1;
    return;
  }
  const logDir = join(stack.stateDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, 'burnrate.log');
  const config = loadConfig({
    BURNRATE_DATA_DIR: join(stack.stateDir, 'chdb'),
    ...process.env,
    KAFKA_BROKERS: stack.kafkaBrokers,
    REDIS_URL: stack.redisUrl,
  });
  const logger = createLogger(
    config.LOG_LEVEL,
    pino.destination({ dest: logFile, sync: false, mkdir: true }),
  );
  const app = createApp(config, {
    logger,
    fatal: (error) => {
      logger.fatal({ err: error, code: error.code }, error.message);
      console.error(`[burnrate] ${error.message} (details in ${logFile})`);
      void shutdown(1);
    },
  });
  const lifecycle = createLifecycle(app.components, logger, config.SHUTDOWN_TIMEOUT_MS);
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('Stopping (roles first, then Kafka and Redis)…');
    clearInterval(progress);
    await lifecycle.stop();
    logger.flush();
    await stack.stop();
    say('Stopped.');
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  let progress: NodeJS.Timeout | undefined;
  try {
    if (!(await lifecycle.start())) return;
  } catch (error) {
    console.error(
      `[burnrate] Starting the roles failed: ${error instanceof Error ? error.message : String(error)} (details in ${logFile})`,
    );
    await shutdown(1);
    return;
  }
  const ch = `http://${config.CLICKHOUSE_HTTP_HOST}:${config.CLICKHOUSE_HTTP_PORT}`;
  say(
    `Running roles: ${config.BURNRATE_ROLES.join(', ')} — demo events at ${config.DEMO_EVENTS_PER_SECOND}/s`,
  );
  say(
    `ClickHouse HTTP: ${ch}  (analyst user: ${config.CLICKHOUSE_ANALYST_USER} / ${config.CLICKHOUSE_ANALYST_PASSWORD})`,
  );
  say(`  curl '${ch}/?query=SELECT+count()+FROM+${config.CLICKHOUSE_DATABASE}.usage_events'`);
  say(`Kafka: ${stack.kafkaBrokers}   Redis: ${stack.redisUrl}   Logs: ${logFile}`);
  say('Press Ctrl-C to stop.');
  progress = setInterval(async () => {
    const client = app.clickhouse;
    if (!client) return;
    try {
      const rs = await client.query({
        query: `SELECT count() AS events, uniqExact(customer_id) AS customers, sum(cost_total_nanos) AS cost_nanos FROM ${config.CLICKHOUSE_DATABASE}.usage_events`,
        format: 'JSONEachRow',
      });
      const [row] = await rs.json<{ events: string; customers: string; cost_nanos: string }>();
      const usd = (BigInt(row?.cost_nanos ?? '0') / 1_000_000n).toString();
      say(
        `usage_events: ${row?.events} events, ${row?.customers} customers, ~$${Number(usd) / 1000} total cost`,
      );
    } catch (error) {
      logger.warn({ err: error }, 'progress query failed');
    }
  }, 5_000);
}

await main();
