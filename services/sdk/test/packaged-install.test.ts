import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fromOpenAIChat } from '../src/index.js';
import { consumeAll, createTopic } from './helpers.js';

/**
 * The packages as a user gets them: `npm pack` of core, sdk and burnrate (each builds on prepack),
 * the tarballs installed into an empty project outside the repository, then used from there.
 */
const run = promisify(execFile);
const rootDir = inject('rootDir');
const brokers = inject('kafkaBrokers');
const base = mkdtempSync(join(tmpdir(), 'burnrate-packed-'));
const project = join(base, 'app');
// No path into the workspace: Node must find every module in the project's own node_modules.
const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: '', NODE_OPTIONS: '' };

const chat = {
  id: 'chatcmpl-packed-1',
  model: 'gpt-4o-mini-2024-07-18',
  usage: {
    prompt_tokens: 1200,
    completion_tokens: 80,
    prompt_tokens_details: { cached_tokens: 1000 },
    completion_tokens_details: { reasoning_tokens: 30 },
  },
};

const EMIT = `import { createEmitter, fromOpenAIChat, withStep, withWorkflow } from '@burnrate/sdk';
const [brokers, topic, chat] = process.argv.slice(2);
const emitter = await createEmitter({ brokers: [brokers], topic, service: 'packaged-app', environment: 'test' });
const ids = [];
await withWorkflow({ workflow: 'triage', customerRef: 'acme' }, () =>
  withStep({ kind: 'llm_call' }, async () => {
    const response = JSON.parse(chat);
    ids.push(emitter.emit({ ...fromOpenAIChat(response), request_id: response.id }));
    ids.push(emitter.emit({ ...fromOpenAIChat(response), request_id: response.id }));
  }),
);
const report = await emitter.close({ timeoutMs: 30000 });
console.log(JSON.stringify({ ids, complete: report.complete, resolved: import.meta.resolve('@burnrate/sdk') }));
`;

// Types come from dist: a wrong call must be an error (so the package's types are not \`any\`).
const TYPED = `import { createEmitter, fromOpenAIChat, verifyWebhook, type AlertPayload } from '@burnrate/sdk';
const emitter = await createEmitter({ brokers: ['127.0.0.1:9092'], service: 'typed' });
const id: string = emitter.emit({ customer_ref: 'c', ...fromOpenAIChat({ model: 'm', usage: {} }) });
// @ts-expect-error customer_ref is a string
emitter.emit({ customer_ref: 1, provider: 'openai', model: 'm' });
export const used: [string, typeof verifyWebhook, AlertPayload | undefined] = [id, verifyWebhook, undefined];
`;

beforeAll(async () => {
  const packed = join(base, 'packed');
  mkdirSync(packed);
  const workspaces = ['services/core', 'services/sdk', 'services/burnrate'].flatMap((w) => ['-w', w]);
  await run('npm', ['pack', ...workspaces, '--pack-destination', packed], { cwd: rootDir, env });
  const tarballs = readdirSync(packed).map((f) => join(packed, f));
  expect(tarballs).toHaveLength(3);

  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'packed-app', private: true, type: 'module' }),
  );
  writeFileSync(join(project, 'emit.mjs'), EMIT);
  writeFileSync(join(project, 'typed.ts'), TYPED);
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: ['node'] },
      files: ['typed.ts'],
    }),
  );
  await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs, '@types/node@20'],
    { cwd: project, env, maxBuffer: 16 << 20 },
  );
}, 300_000);

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('the packed packages, installed into an empty project', () => {
  it('emit through an adapter to Kafka, loading everything from the project', async () => {
    const topic = await createTopic(brokers);
    const { stdout } = await run('node', ['emit.mjs', brokers, topic, JSON.stringify(chat)], {
      cwd: project,
      env,
    });
    const out = JSON.parse(stdout) as { ids: string[]; complete: boolean; resolved: string };
    expect(out.complete).toBe(true);
    expect(realpathSync(new URL(out.resolved))).toBe(
      realpathSync(join(project, 'node_modules/@burnrate/sdk/dist/index.js')),
    );

    const seen = await consumeAll(brokers, topic);
    expect(seen.map((m) => m.event.event_id).sort()).toEqual([...out.ids].sort());
    const expected = fromOpenAIChat(chat);
    for (const { key, event } of seen) {
      expect(key).toBe('acme');
      expect(event).toMatchObject({
        customer_ref: 'acme',
        workflow: 'triage',
        service: 'packaged-app',
        provider: expected.provider,
        model: expected.model,
        tokens: expected.tokens,
        request_id: chat.id,
      });
    }
  });

  it('type-checks against the types in dist', async () => {
    const tsc = join(rootDir, 'node_modules/typescript/bin/tsc');
    await expect(run('node', [tsc, '-p', project], { cwd: project, env })).resolves.toBeDefined();
  });

  it('runs the burnrate CLI from its bin, migrations included', async () => {
    const help = await run('npx', ['--no-install', 'burnrate', '--help'], { cwd: project, env });
    expect(help.stdout).toContain('Usage: burnrate [options] [command]');
    expect(help.stdout).toContain('export  ');
    // The embedded engine, in a directory of its own.
    const { CLICKHOUSE_URL: _server, ...embedded } = env;
    const { stdout } = await run('npx', ['--no-install', 'burnrate', 'migrate'], {
      cwd: project,
      env: { ...embedded, BURNRATE_DATA_DIR: join(base, 'chdb') },
    });
    expect(stdout).toMatch(/^applied: 0001_usage_events, .*0005_alerts/);
    // A money command from the installed bin, on the same (empty) store: one JSON document.
    const top = await run('npx', ['--no-install', 'burnrate', 'top', 'customers', '--from', '7d', '--json'], {
      cwd: project,
      env: { ...embedded, BURNRATE_DATA_DIR: join(base, 'chdb'), CLICKHOUSE_HTTP_PORT: '1' },
    });
    expect(JSON.parse(top.stdout)).toMatchObject({ rows: [] });
  });
});
