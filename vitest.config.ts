import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';
import { LongFirstSequencer } from './services/devstack/src/vitest/sequencer.js';

// Workspace packages export their TypeScript sources under the `@burnrate/source` condition, so
// tests run against src/ without a build step.
const conditions = ['@burnrate/source', ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  // Vitest also hands the SSR conditions to Node as --conditions; Node must not take `module`
  // (packages such as @opentelemetry/api, which prom-client requires, publish extensionless ESM there).
  ssr: { resolve: { conditions: conditions.filter((c) => c !== 'module') } },
  test: {
    include: ['services/*/test/**/*.test.ts'],
    // The reduced chaos suites (a 3-node cluster each, minutes of faults) start first.
    sequence: { sequencer: LongFirstSequencer },
    // chDB allows one engine per process and data directory: one fork per test file, each with its own dir.
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['services/devstack/src/vitest/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
