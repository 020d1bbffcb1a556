import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCatalog } from '@burnrate/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliOutput } from '../src/cli/kit/output.js';
import { runCliToExitCode } from '../src/cli/run-cli.js';
import { createClickHouseHttpServer } from '../src/clickhouse/http/index.js';
import { enrichedRow, silentLogger, testClickHouse } from './fixtures.js';

const LITELLM = new URL('../../core/test/fixtures/litellm-prices.json', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'burnrate-prices-cli-'));
const write = (name: string, content: unknown) => {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
};

async function prices(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const output: CliOutput = { out: (t) => out.push(t), err: (t) => err.push(t), interactive: false };
  const code = await runCliToExitCode(['prices', ...argv], { onSignal: () => {}, env }, output);
  return { code, out: out.join(''), err: err.join('') };
}

const entry = (id: string, model: string, input: string, output: string, extra: object = {}) => ({
  id,
  provider: 'openai',
  model,
  valid_from: '2024-01-01',
  tokens_per_million: { input, output },
  source_url: 'https://example.com/pricing',
  as_of: '2026-01-01',
  ...extra,
});

describe('burnrate prices import-litellm', () => {
  it('writes a catalog the pipeline loads and counts what it skipped by reason', async () => {
    const out = join(dir, 'imported.json');
    const r = await prices(['import-litellm', LITELLM, '--out', out, '--as-of', '2026-11-01', '--json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({
      version: 'litellm-2026-11-01.1',
      imported: 11,
      skipped: {
        duplicate: 1,
        not_token_priced: 1,
        unsupported_cost_field: 2,
        missing_price: 1,
        invalid_price: 1,
      },
    });
    const catalog = parseCatalog(JSON.parse(readFileSync(out, 'utf8')));
    expect(catalog.entries).toHaveLength(11);
    expect(catalog.lookup('openai', 'gpt-4o', Date.parse('2026-12-01T00:00:00Z'))?.id).toBe(
      'openai/gpt-4o@2026-11-01',
    );
  });

  it('refuses a missing or malformed file in one sentence and writes nothing', async () => {
    const out = join(dir, 'never.json');
    const missing = await prices(['import-litellm', join(dir, 'absent.json'), '--out', out]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^burnrate: import-litellm FILE names .*absent\.json, which cannot be read/);
    const bad = await prices(['import-litellm', write('bad.json', '{"gpt-4o": {'), '--out', out]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/bad\.json, which is not JSON/);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
    expect((await prices(['import-litellm', LITELLM, '--json'])).code).toBe(2);
  });
});

describe('burnrate prices import-litellm --out: atomic, exclusive temporary file', () => {
  it('never writes through a file planted where a predictable temporary name would be', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'burnrate-import-out-'));
    const out = join(outDir, 'catalog.json');
    const victim = join(outDir, 'victim.txt');
    writeFileSync(victim, 'untouched');
    symlinkSync(victim, `${out}.${process.pid}.tmp`);
    const r = await prices(['import-litellm', LITELLM, '--out', out, '--as-of', '2026-11-01', '--json']);
    expect(r.code).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(parseCatalog(JSON.parse(readFileSync(out, 'utf8'))).entries).toHaveLength(11);
    // Only the catalog, the victim and the planted link: no temporary file left behind.
    expect(readdirSync(outDir).sort()).toEqual(
      ['catalog.json', 'catalog.json.' + process.pid + '.tmp', 'victim.txt'].sort(),
    );
  });

  it('refuses an --out in a missing directory in one sentence (exit 2)', async () => {
    const r = await prices(['import-litellm', LITELLM, '--out', '/nonexistent-burnrate-dir/c.json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^burnrate: --out \/nonexistent-burnrate-dir\/c\.json cannot be written \(ENOENT\)/,
    );
  });
});

describe('burnrate prices list', () => {
  it('lists the bundled Gemini 3 Pro with its web-search fee, exactly', async () => {
    const r = await prices(['list', '--model', 'gemini-3-pro', '--at', '2025-12-01', '--json']);
    expect(r.code).toBe(0);
    const [gemini] = JSON.parse(r.out).entries;
    expect(gemini).toMatchObject({
      id: 'google/gemini-3-pro-preview@2025-11-18',
      usd_per_million_tokens: { input: '2.00', cached_input: '0.20', cache_write: '2.00', output: '12.00' },
      fees_usd: { per_web_search_call: '0.014' },
    });
    const table = await prices(['list', '--model', 'gemini-3-pro', '--at', '2025-12-01']);
    expect(table.out).toContain('web_search_call $0.014');
    expect(
      JSON.parse((await prices(['list', '--model', 'gemini-3-pro', '--at', '2025-01-01', '--json'])).out)
        .entries,
    ).toEqual([]);
  });

  it('refuses a catalog with overlapping windows, naming both entries', async () => {
    const file = write('overlap.json', {
      version: 'v1',
      entries: [
        entry('openai/gpt-4o@2024', 'gpt-4o', '2.50', '10.00'),
        entry('openai/gpt-4o@2025', 'gpt-4o', '2.00', '8.00', { valid_from: '2025-01-01' }),
      ],
    });
    const r = await prices(['list', '--prices', file]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('overlaps entry "openai/gpt-4o@2024"');
    expect(r.err).toContain('openai/gpt-4o@2025');
  });
});

describe('burnrate prices diff (real chDB)', () => {
  let ch: Awaited<ReturnType<typeof testClickHouse>>;
  beforeAll(async () => {
    ch = await testClickHouse();
    const at = Date.UTC(2026, 8, 21, 12);
    const fact = (i: number, customer: string, model: string) =>
      enrichedRow(i, {
        occurred_at: at + i * 60_000,
        customer_id: customer,
        model,
        tokens_input: 1_000,
        tokens_cached_input: 0,
        tokens_output: 500,
      });
    await ch.client.insert({
      table: `${ch.database}.usage_events`,
      values: [
        fact(0, 'cust-a', 'gpt-4o-mini'),
        fact(1, 'cust-a', 'gpt-4o-mini'),
        fact(2, 'cust-b', 'gpt-4o'),
        fact(3, 'cust-b', 'new-model'),
      ],
      format: 'JSONEachRow',
    });
  });
  afterAll(() => ch.client.close());

  const A = () =>
    write('a.json', {
      version: 'a',
      entries: [
        entry('openai/gpt-4o-mini@2024', 'gpt-4o-mini', '0.15', '0.60'),
        entry('openai/gpt-4o@2024', 'gpt-4o', '2.50', '10.00'),
      ],
    });
  const B = () =>
    write('b.json', {
      version: 'b',
      entries: [
        entry('openai/gpt-4o-mini@2024', 'gpt-4o-mini', '0.10', '0.40'),
        entry('openai/gpt-4o@2024', 'gpt-4o', '2.50', '10.00'),
        entry('openai/new-model@2024', 'new-model', '1.00', '4.00'),
      ],
    });
  const env = () => ({
    BURNRATE_DATA_DIR: ch.path,
    CLICKHOUSE_DATABASE: ch.database,
    CLICKHOUSE_HTTP_PORT: '1',
  });
  const range = ['--from', '2026-09-21', '--to', '2026-09-22'];

  it('sums the facts under A and under B per model, exactly, and writes nothing', async () => {
    const before = await ch.client
      .query({
        query: `SELECT sum(cost_total_nanos) s FROM ${ch.database}.usage_events`,
        format: 'JSONEachRow',
      })
      .then((q) => q.json());
    const r = await prices(['diff', A(), B(), ...range, '--json'], env());
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const diff = JSON.parse(r.out);
    const byModel = Object.fromEntries(diff.lines.map((l: { model: string }) => [l.model, l]));
    // gpt-4o-mini: 1,000 × 150 + 500 × 600 = 450,000 nano-USD per fact under A; 1,000 × 100 + 500 × 400 under B.
    expect(byModel['gpt-4o-mini']).toMatchObject({
      facts: 2,
      cost_a_nanos: '900000',
      cost_b_nanos: '600000',
      delta_nanos: '-300000',
    });
    expect(byModel['gpt-4o']).toMatchObject({ cost_a_nanos: '7500000', cost_b_nanos: '7500000' });
    expect(byModel['new-model']).toMatchObject({
      cost_a_nanos: '0',
      cost_b_nanos: '3000000',
      unpriced_a: 1,
      unpriced_b: 0,
    });
    expect(diff.total).toMatchObject({ facts: 4, cost_a_nanos: '8400000', cost_b_nanos: '11100000' });
    const after = await ch.client
      .query({
        query: `SELECT sum(cost_total_nanos) s FROM ${ch.database}.usage_events`,
        format: 'JSONEachRow',
      })
      .then((q) => q.json());
    expect(after).toEqual(before);
  });

  it('reads through a running burnrate that owns chDB, as the read-only analyst (no migrations)', async () => {
    const server = createClickHouseHttpServer({
      client: ch.client,
      host: '127.0.0.1',
      port: 0,
      defaultDatabase: ch.database,
      users: [{ name: 'diff-analyst', password: 'pw', readonly: true }],
      logger: silentLogger,
    });
    const { url } = await server.start();
    try {
      const r = await prices(['diff', A(), B(), ...range, '--json'], {
        ...env(),
        BURNRATE_DATA_DIR: write('owned-by-burnrate-run', ''),
        CLICKHOUSE_HTTP_HOST: '127.0.0.1',
        CLICKHOUSE_HTTP_PORT: new URL(url).port,
        CLICKHOUSE_ANALYST_USER: 'diff-analyst',
        CLICKHOUSE_ANALYST_PASSWORD: 'pw',
      });
      expect([r.code, r.err]).toEqual([0, '']);
      expect(JSON.parse(r.out).total).toMatchObject({ facts: 4, cost_a_nanos: '8400000' });
    } finally {
      await server.stop();
    }
  });

  it('applies BURNRATE_OVERRIDES_FILE to both sides, per customer', async () => {
    const overrides = write(
      'overrides.yaml',
      [
        'version: o1',
        'overrides:',
        '  - { id: a-half, customer_id: cust-a, kind: discount, discount: "0.5", valid_from: 2026-01-01 }',
      ].join('\n'),
    );
    const r = await prices(['diff', A(), B(), ...range, '--by', 'customer', '--json'], {
      ...env(),
      BURNRATE_OVERRIDES_FILE: overrides,
    });
    expect(r.code).toBe(0);
    const byCustomer = Object.fromEntries(
      JSON.parse(r.out).lines.map((l: { customer_id: string }) => [l.customer_id, l]),
    );
    expect(byCustomer['cust-a']).toMatchObject({ cost_a_nanos: '450000', cost_b_nanos: '300000' });
    expect(byCustomer['cust-b']).toMatchObject({ cost_a_nanos: '7500000', cost_b_nanos: '10500000' });
    const table = await prices(['diff', A(), B(), ...range], env());
    expect(table.out).toContain('-$0.0003');
  });

  it('refuses an overrides file with overlapping windows, naming the file and the field', async () => {
    const overrides = write('overlap-overrides.json', {
      version: 'o2',
      overrides: [
        { id: 'x1', customer_id: 'cust-a', kind: 'discount', discount: '0.1', valid_from: '2026-01-01' },
        { id: 'x2', customer_id: 'cust-a', kind: 'discount', discount: '0.2', valid_from: '2026-06-01' },
      ],
    });
    const r = await prices(['diff', A(), B(), ...range], { ...env(), BURNRATE_OVERRIDES_FILE: overrides });
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(
      /^burnrate: BURNRATE_OVERRIDES_FILE \(.*overlap-overrides\.json\) \(field overrides\[1\]\.valid_from\): .*overlaps override "x1"/,
    );
  });
});
