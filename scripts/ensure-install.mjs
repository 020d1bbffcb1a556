// Installs the project's npm dependencies when they are missing or older than the lock file.
// Plain Node with no dependencies, so it runs on a fresh clone before anything is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function ensureInstalled(root) {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  const fresh = existsSync(marker) && existsSync(lock) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs;
  if (fresh) return;
  console.log('[burnrate] Installing npm dependencies (npm ci)…');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('[burnrate] npm ci failed: check that the npm registry is reachable, then run it again.');
    process.exit(result.status ?? 1);
  }
}

/** Runs a command inheriting stdio; returns its exit code. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) {
    console.error(`[burnrate] could not run ${command}: ${result.error.message}`);
    return 127;
  }
  return result.status ?? 1;
}

export const TSX = ['--conditions=@burnrate/source', '--import', 'tsx'];
