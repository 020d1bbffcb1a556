#!/usr/bin/env node
import { BurnrateError } from '@burnrate/core';
import { runCli } from './cli/run-cli.js';

/**
 * The only place that touches process-level state: argv, exit codes and signal handlers.
 * Everything else is created explicitly by runCli() and friends.
 */
const exitCode = await runCli(process.argv.slice(2), {
  onSignal: (handler) => {
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
  },
}).catch((error: unknown) => {
  if (error instanceof BurnrateError) {
    process.stderr.write(`burnrate: ${error.message}\n`);
    // 2: the input or a setting must change; 1: a service failed, the same command may work later.
    return error.retriable ? 1 : 2;
  }
  process.stderr.write(
    `burnrate: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return 1;
});
// Exit explicitly: a client still retrying in the background (a broker that never answered during
// start-up) must not keep a stopped process alive.
process.exit(exitCode);
