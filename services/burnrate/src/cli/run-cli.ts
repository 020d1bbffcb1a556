import { loadConfig } from '../config/load.js';
import { classifyKafkaError } from '../kafka/errors.js';
import { createApp } from '../runtime/app.js';
import type { Fatal } from '../runtime/fatal.js';
import { createLifecycle } from '../runtime/lifecycle.js';
import { createLogger } from '../runtime/logger.js';

export interface CliHost {
  /** Called once with the function that shuts the process down gracefully. */
  onSignal(handler: () => void): void;
}

const USAGE = `usage: burnrate <command>

commands:
  run                 run the roles in BURNRATE_ROLES (default: all) until SIGINT/SIGTERM
  customers import F  publish customer records (JSON lines or CSV) to the customers topic
  reprice             re-price a time range with the current catalog (see --help)
  alerts              failed deliveries, replay, re-enable a destination, alerts on record (see help)
  keys create         make an API key for the api role (see burnrate keys help)
  migrate             apply ClickHouse migrations and exit
`;

export async function runCli(argv: string[], host: CliHost): Promise<number> {
  try {
    return await dispatch(argv, host);
  } catch (error) {
    throw classifyKafkaError(error, brokersForMessages());
  }
}

function brokersForMessages(): string[] {
  try {
    return loadConfig().KAFKA_BROKERS;
  } catch {
    return ['(invalid KAFKA_BROKERS)'];
  }
}

async function dispatch(argv: string[], host: CliHost): Promise<number> {
  const [command = 'run', ...rest] = argv;
  switch (command) {
    case 'run':
      return run(host);
    case 'customers':
      return (await import('./customers.js')).customersCommand(rest);
    case 'reprice':
      return (await import('./reprice.js')).repriceCommand(rest);
    case 'alerts':
      return (await import('./alerts.js')).alertsCommand(rest);
    case 'keys':
      return (await import('./keys.js')).keysCommand(rest);
    case 'migrate':
      return (await import('./migrate-command.js')).migrateCommand();
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`burnrate: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

async function run(host: CliHost): Promise<number> {
  const config = loadConfig();
  const root = createLogger(config.LOG_LEVEL);
  // Every line carries a role: the roles' own, or `runtime` for the process around them.
  const logger = root.child({ role: 'runtime' });
  let exitCode = 0;
  let stopped!: () => void;
  const done = new Promise<void>((r) => {
    stopped = r;
  });
  const shutdown = (code: number) => {
    if (lifecycle.stopping) return;
    exitCode = code;
    void lifecycle.stop().then(stopped);
  };
  // One line saying why, then a stop with a non-zero exit: never a process that stays up doing nothing.
  const fatal: Fatal = (error) => {
    if (lifecycle.stopping) {
      logger.debug({ err: error }, 'a further failure while stopping');
      return;
    }
    logger.fatal({ err: error, code: error.code }, `${error.message} Stopping with exit code 1.`);
    shutdown(1);
  };
  const app = createApp(config, { logger: root, fatal, env: process.env });
  const lifecycle = createLifecycle(app.components, logger, config.SHUTDOWN_TIMEOUT_MS);
  host.onSignal(() => {
    logger.info('shutting down');
    shutdown(0);
  });
  logger.info({ roles: config.BURNRATE_ROLES }, 'starting');
  // A stop during start-up must not wait for a start that may hang (a broker that never answers).
  const starting = lifecycle.start();
  starting.catch(() => {});
  if (await Promise.race([starting, done.then(() => false)])) {
    logger.info({ roles: config.BURNRATE_ROLES }, 'burnrate is running');
  }
  await done;
  logger.info({ exitCode }, 'stopped');
  await new Promise<void>((r) => logger.flush(() => r()));
  return exitCode;
}
