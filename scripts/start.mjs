// `npm start`: install what is missing, bring up Kafka + Redis + embedded ClickHouse, and run every
// burnrate role in one process with a stream of demo events. Ctrl-C stops everything cleanly.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureInstalled, TSX } from './ensure-install.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
ensureInstalled(root);
const child = spawn(process.execPath, [...TSX, 'scripts/dev.ts', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
// The child handles Ctrl-C itself (it shares our terminal's process group); we only wait for it.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
