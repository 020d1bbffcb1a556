// The body of `npm start` (see start.mjs): local stack + every role in this process + demo events.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp, createKey, createLifecycle, createLogger, loadConfig } from '@burnrate/burnrate';
import { formatUsdCents, generateWebhookSecret } from '@burnrate/core';
import { describeStackFailure, startLocalStack } from '@burnrate/devstack';
import { pino } from 'pino';
import { startAlertReceiver } from './alert-receiver.js';

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
      kafkaNodes: Number(process.env.KAFKA_NODES ?? 1),
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
  // Alerts go to a receiver in this process that verifies each signature and prints the alert.
  const alerting = await localAlerting(stack.stateDir);
  // The demo's earlier-in-the-month usage is emitted once per state directory (delete it to start over).
  const backlogMarker = join(stack.stateDir, 'demo-backlog-emitted');
  const api = localApiKey(stack.stateDir);
  const config = loadConfig({
    BURNRATE_DATA_DIR: join(stack.stateDir, 'chdb'),
    BURNRATE_RULES_FILE: alerting.rulesFile,
    BURNRATE_KEYS_FILE: api.keysFile,
    NOTIFIER_ALLOWED_NETWORKS: '127.0.0.1/32',
    DEMO_BACKLOG: existsSync(backlogMarker) ? 'false' : 'true',
    ...process.env,
    KAFKA_BROKERS: stack.kafkaBrokers,
    REDIS_URL: stack.redisUrl,
  });
  if (config.DEMO_BACKLOG) writeFileSync(backlogMarker, new Date().toISOString());
  const logger = createLogger(
    config.LOG_LEVEL,
    pino.destination({ dest: logFile, sync: false, mkdir: true }),
  );
  const app = createApp(config, {
    logger,
    env: { ...process.env, BURNRATE_LOCAL_WEBHOOK_SECRET: alerting.secret },
    fatal: (error) => {
      logger.fatal({ err: error, code: error.code }, error.message);
      console.error(`[burnrate] ${error.message} (details in ${logFile})`);
      void shutdown(1);
    },
  });
  const lifecycle = createLifecycle(
    app.components,
    logger.child({ role: 'runtime' }),
    config.SHUTDOWN_TIMEOUT_MS,
  );
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('Stopping (roles first, then Kafka and Redis)…');
    clearInterval(progress);
    await lifecycle.stop();
    logger.flush();
    await alerting.receiver.close();
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
  if (config.BURNRATE_ROLES.includes('api')) {
    const url = `http://${config.API_HOST}:${config.API_PORT}`;
    say(`API: ${url}  (a local key with every scope is in ${api.keyFile}; see docs/api.md)`);
    say(
      `  curl -H "Authorization: Bearer $(cat ${api.keyFile})" '${url}/v1/budget?customer=org_whale&workflow=research-agent'`,
    );
  }
  if (config.BURNRATE_ROLES.includes('overview')) {
    say(
      `Overview: http://${config.OVERVIEW_HOST}:${config.OVERVIEW_PORT}  (spend, margins, runs, model routing, alerts, health; docs/dashboards.md)`,
    );
  }
  say(`Kafka: ${stack.kafkaBrokers}   Redis: ${stack.redisUrl}   Logs: ${logFile}`);
  say(`Metrics and health: ${app.ops.url()}/metrics  /healthz  /readyz (docs/operations.md)`);
  say(
    config.BURNRATE_RULES_FILE === alerting.rulesFile
      ? `Alerts: signed webhooks to ${alerting.receiver.url} (rules and destinations: ${alerting.rulesFile}); each one appears below as it arrives`
      : `Alerts: as BURNRATE_RULES_FILE (${config.BURNRATE_RULES_FILE}) routes them`,
  );
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
      say(
        `usage_events: ${row?.events} events, ${row?.customers} customers, $${formatUsdCents(BigInt(row?.cost_nanos ?? '0'))} total cost; alerts received: ${alerting.receiver.count()}`,
      );
    } catch (error) {
      logger.warn({ err: error }, 'progress query failed');
    }
  }, 5_000);
}

/**
 * A local API key with every scope for every customer, made once per state directory: the key in
 * `api-key` (mode 600, for curl), its hash in `keys.yaml` (what BURNRATE_KEYS_FILE names).
 */
function localApiKey(stateDir: string) {
  const keyFile = join(stateDir, 'api-key');
  const keysFile = join(stateDir, 'keys.yaml');
  if (!existsSync(keyFile) || !existsSync(keysFile)) {
    const { key, entry } = createKey({
      id: 'local',
      scopes: ['ingest', 'budget', 'forecast'],
      customers: ['*'],
    });
    writeFileSync(
      keysFile,
      `# Written by \`npm start\`; make more with \`npm run burnrate -- keys create\`.\n${JSON.stringify({ keys: [entry] }, null, 2)}\n`,
    );
    writeFileSync(keyFile, key, { mode: 0o600 });
  }
  return { keyFile, keysFile };
}

/**
 * The local alerting set-up: a webhook secret kept in the state directory, a receiver on 127.0.0.1
 * that prints each alert, and an alerting file that routes every alert to it.
 */
async function localAlerting(stateDir: string) {
  const secretFile = join(stateDir, 'webhook-secret');
  if (!existsSync(secretFile)) writeFileSync(secretFile, generateWebhookSecret(), { mode: 0o600 });
  const secret = readFileSync(secretFile, 'utf8').trim();
  const port = Number(process.env.ALERT_RECEIVER_PORT ?? 8790);
  const print = (line: string) => console.log(`[alert] ${line}`);
  const receiver = await startAlertReceiver({
    port,
    secrets: [secret],
    print,
    color: process.stdout.isTTY,
  }).catch(() => startAlertReceiver({ port: 0, secrets: [secret], print, color: process.stdout.isTTY }));
  const rulesFile = join(stateDir, 'alerting.yaml');
  writeFileSync(
    rulesFile,
    [
      '# Written by `npm start`: every alert goes to the receiver printing them in your terminal.',
      '# Copy this file, change the rules and destinations, and point BURNRATE_RULES_FILE at it.',
      'defaults:',
      '  # The demo has a month of history for Whale Labs only: a $100 floor keeps the others quiet.',
      '  spike: { min_usd: 100 }',
      'destinations:',
      '  - name: terminal',
      '    kind: webhook',
      `    url: ${receiver.url}`,
      // The secret stays out of the file: burnrate fills in environment variables.
      `    secrets: ["$\{BURNRATE_LOCAL_WEBHOOK_SECRET}"]`,
      '',
    ].join('\n'),
  );
  return { secret, receiver, rulesFile };
}

await main();
