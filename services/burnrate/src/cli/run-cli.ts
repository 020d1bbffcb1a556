import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { classifyKafkaError } from '../kafka/errors.js';
import { createApp } from '../runtime/app.js';
import type { Fatal } from '../runtime/fatal.js';
import { createLifecycle } from '../runtime/lifecycle.js';
import { createLogger } from '../runtime/logger.js';
import { createAlertsCommand } from './alerts.js';
import { createCustomersCommand } from './customers.js';
import { createDlqCommand } from './dlq.js';
import { createExportCommand } from './export.js';
import { createKeysCommand } from './keys.js';
import { type CliOutput, processOutput } from './kit/output.js';
import { createMarginCommand } from './margin.js';
import { createMigrateCommand } from './migrate-command.js';
import { createPricesCommand } from './prices.js';
import {
  applyCliConventions,
  CommandExit,
  CommanderError,
  commanderExitCode,
  errorLine,
  exitCodeFor,
} from './program.js';
import { createRepriceCommand } from './reprice.js';
import { createRollupsCommand } from './rollups.js';
import { createRunsCommand } from './runs.js';
import { createSqlCommand } from './sql.js';
import { createTopCommand } from './top.js';
import { createWhalesCommand } from './whales.js';

export interface CliHost {
  /** Called at most once with the function that stops the process (or a following command) gracefully. */
  onSignal(handler: () => void): void;
  /** The environment commands read their settings from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** The clock commands resolve default periods with (default: Date.now). */
  now?: () => number;
}

/**
 * `burnrate <command>` as main.ts runs it: never throws; a thrown error is printed as one line
 * (`burnrate: …`) and mapped to the exit code by exitCodeFor — the same code on every path.
 */
export async function runCliToExitCode(
  argv: string[],
  host: CliHost,
  output: CliOutput = processOutput,
): Promise<number> {
  try {
    return await runCli(argv, host, output);
  } catch (error) {
    output.err(errorLine(error));
    return exitCodeFor(error);
  }
}

/**
 * `burnrate <command>`: returns the exit code. Usage errors (unknown command or flag, a flag
 * without its value) print one line and return 2; a command's own typed errors are thrown, and
 * runCliToExitCode (what main.ts calls) prints them and maps them with exitCodeFor.
 */
export async function runCli(
  argv: string[],
  host: CliHost,
  output: CliOutput = processOutput,
): Promise<number> {
  let exitCode = 0;
  const program = createProgram(host, output, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv.length === 0 ? ['run'] : argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return commanderExitCode(error);
    if (error instanceof CommandExit) return error.exitCode;
    throw classifyKafkaError(error, brokersForMessages());
  }
}

function createProgram(host: CliHost, output: CliOutput, setExitCode: (code: number) => void): Command {
  // Commands that follow something until Ctrl-C (alerts tail) ask for the signal only when they run.
  const stopSignal = () => {
    const controller = new AbortController();
    host.onSignal(() => controller.abort());
    return controller.signal;
  };
  const env = host.env ?? process.env;
  const now = host.now ?? Date.now;
  const program = new Command('burnrate')
    .description('AI FinOps: what your LLM usage costs, per customer, workflow and step')
    .helpCommand(true)
    .addHelpText(
      'after',
      '\nRead commands take --from/--to and --json (exact nano-USD as strings).\nExit codes: 0 done; 2 bad input or a setting to fix (one sentence says what); 1 unexpected failure.',
    );
  program
    .command('run')
    .description('run the roles in BURNRATE_ROLES (default: all) until SIGINT/SIGTERM')
    .action(async () => setExitCode(await run(host)));
  program.addCommand(createTopCommand(output));
  program.addCommand(createMarginCommand(output));
  program.addCommand(createWhalesCommand(output));
  program.addCommand(createRunsCommand(output));
  program.addCommand(createAlertsCommand(output, stopSignal));
  program.addCommand(createSqlCommand(output));
  program.addCommand(createDlqCommand(output));
  program.addCommand(createExportCommand(output, { env, now }));
  program.addCommand(createCustomersCommand(output));
  program.addCommand(createKeysCommand(output));
  program.addCommand(createMigrateCommand(output));
  program.addCommand(createRepriceCommand(output, env));
  program.addCommand(createRollupsCommand(output, env));
  program.addCommand(createPricesCommand(output, env, now));
  applyCliConventions(program, output);
  return program;
}

function brokersForMessages(): string[] {
  try {
    return loadConfig().KAFKA_BROKERS;
  } catch {
    return ['(invalid KAFKA_BROKERS)'];
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
