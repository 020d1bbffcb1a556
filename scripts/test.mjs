// `npm test`: install what is missing, then typecheck, lint, check schema compatibility and run every
// test. The vitest global setup brings up the real Kafka (and Redis if none answers) the tests need.
import { fileURLToPath } from 'node:url';
import { ensureInstalled, run, TSX } from './ensure-install.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
ensureInstalled(root);
const npx = (args) => run('npx', ['--no-install', ...args], { cwd: root });
const steps = [
  ['typecheck', () => npx(['turbo', 'run', 'typecheck', '--output-logs=errors-only'])],
  ['typecheck scripts', () => npx(['tsc', '-p', 'tsconfig.json'])],
  ['lint', () => npx(['biome', 'check', '.'])],
  ['schema compatibility', () => run(process.execPath, [...TSX, 'scripts/check-schemas.ts'], { cwd: root })],
  [
    'capacity doc in sync',
    () => run(process.execPath, [...TSX, 'scripts/capacity.ts', '--check'], { cwd: root }),
  ],
  ['tests', () => npx(['vitest', 'run', ...process.argv.slice(2)])],
];
for (const [name, step] of steps) {
  console.log(`\n[burnrate] ${name}`);
  const code = step();
  if (code !== 0) {
    console.error(`[burnrate] ${name} failed (exit code ${code}).`);
    process.exit(code);
  }
}
