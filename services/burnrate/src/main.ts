#!/usr/bin/env node
import { runCliToExitCode } from './cli/run-cli.js';

/**
 * The only place that touches process-level state: argv, exit codes and signal handlers.
 * Everything else is created explicitly by runCli() and friends; the error → exit-code mapping
 * (2: the input or a setting must change; 1: a service failed, the same command may work later)
 * is exitCodeFor in cli/program.ts.
 */
const exitCode = await runCliToExitCode(process.argv.slice(2), {
  onSignal: (handler) => {
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
  },
});
// Exit explicitly: a client still retrying in the background (a broker that never answered during
// start-up) must not keep a stopped process alive.
process.exit(exitCode);
