import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { usdToNanos } from '@burnrate/core';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';
import { resolveExportPeriod } from '../src/cli/export.js';
import type { CliOutput } from '../src/cli/kit/output.js';
import { runCliToExitCode } from '../src/cli/run-cli.js';
import { createClickHouseHttpServer } from '../src/clickhouse/http/index.js';
import { enrichedRow, silentLogger, testClickHouse } from './fixtures.js';

/** The FOCUS 1.2 columns, then burnrate's x_ columns — written out here, not imported, on purpose. */
const EXPECTED_HEADER = [
  'BilledCost',
  'BillingAccountId',
  'BillingAccountName',
  'BillingCurrency',
  'BillingPeriodEnd',
  'BillingPeriodStart',
  'ChargeCategory',
  'ChargeClass',
  'ChargeDescription',
  'ChargeFrequency',
  'ChargePeriodEnd',
  'ChargePeriodStart',
  'ConsumedQuantity',
  'ConsumedUnit',
  'ContractedCost',
  'EffectiveCost',
  'InvoiceIssuerName',
  'ListCost',
  'PricingCategory',
  'PricingQuantity',
  'PricingUnit',
  'ProviderName',
  'PublisherName',
  'ResourceId',
  'ResourceName',
  'ResourceType',
  'ServiceCategory',
  'ServiceName',
  'ServiceSubcategory',
  'SkuId',
  'SkuMeter',
  'SkuPriceId',
  'SubAccountId',
  'SubAccountName',
  'x_ChargeKind',
  'x_Workflow',
  'x_Feature',
  'x_PriceVersion',
  'x_BilledCostNanos',
  'x_ListCostNanos',
  'x_Events',
  'x_UnpricedEvents',
  'x_ByokEvents',
  'x_Images',
  'x_AudioMilliseconds',
  'x_WebSearchCalls',
];

/** FOCUS 1.2 columns that must not be null (mandatory, or recommended and non-nullable) for usage rows. */
const NEVER_EMPTY = [
  'BilledCost',
  'BillingAccountId',
  'BillingAccountName',
  'BillingCurrency',
  'BillingPeriodEnd',
  'BillingPeriodStart',
  'ChargeCategory',
  'ChargeDescription',
  'ChargeFrequency',
  'ChargePeriodEnd',
  'ChargePeriodStart',
  'ConsumedQuantity',
  'ConsumedUnit',
  'ContractedCost',
  'EffectiveCost',
  'InvoiceIssuerName',
  'ListCost',
  'PricingCategory',
  'PricingQuantity',
  'PricingUnit',
  'ProviderName',
  'PublisherName',
  'ServiceCategory',
  'ServiceName',
  'ServiceSubcategory',
  'SkuId',
  'SubAccountId',
  'SubAccountName',
];
const DATETIMES = ['BillingPeriodEnd', 'BillingPeriodStart', 'ChargePeriodEnd', 'ChargePeriodStart'];
const DECIMALS = [
  'BilledCost',
  'ContractedCost',
  'EffectiveCost',
  'ListCost',
  'ConsumedQuantity',
  'PricingQuantity',
];
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;

/** gpt-4o-mini at 0.15 / 0.075 / 0.60 USD per million tokens = 150 / 75 / 600 nano-USD per token. */
const CATALOG = {
  version: 'cat1',
  entries: [
    {
      id: 'openai/gpt-4o-mini@2024',
      provider: 'openai',
      model: 'gpt-4o-mini',
      valid_from: '2024-01-01',
      tokens_per_million: { input: '0.15', cached_input: '0.075', output: '0.60' },
      fees: { per_image: '0.04' },
      source_url: 'https://example.com/pricing',
      as_of: '2026-01-01',
    },
  ],
};

const OCT = Date.UTC(2026, 9, 1);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let ch: Awaited<ReturnType<typeof testClickHouse>>;
let dir: string;
let env: NodeJS.ProcessEnv;

/** Facts with known costs: catalog-priced, discounted (override), BYOK, unpriced, and outside the range. */
function facts(): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < 30; i++) {
    rows.push(
      enrichedRow(i, {
        occurred_at: OCT + (i % 3) * DAY + (i % 5) * HOUR + i * 1_000,
        customer_id: 'cus_acme',
        customer_name: 'Acme, "Inc"',
        workflow: `wf-${i % 2}`,
        tokens_input: 1_000 + i,
        tokens_cached_input: 100,
        tokens_output: 200 + i,
        tokens_reasoning: i % 4 === 0 ? 50 : 0,
        cost_input_nanos: 150 * (1_000 + i),
        cost_cached_input_nanos: 7_500,
        cost_output_nanos: 600 * (200 + i),
        cost_reasoning_nanos: i % 4 === 0 ? 30_000 : 0,
        cost_request_nanos: i % 10 === 0 ? 1_000_000 : 0,
        units_images: i === 7 ? 2 : 0,
        cost_units_nanos: i === 7 ? 80_000_000 : 0,
        cost_total_nanos:
          150 * (1_000 + i) +
          7_500 +
          600 * (200 + i) +
          (i % 4 === 0 ? 30_000 : 0) +
          (i % 10 === 0 ? 1_000_000 : 0) +
          (i === 7 ? 80_000_000 : 0),
        price_version: 'cat1:openai/gpt-4o-mini@2024',
      }),
    );
  }
  // 15% off list: input 1,000 × 150 × 0.85, output 500 × 600 × 0.85.
  rows.push(
    enrichedRow(100, {
      occurred_at: OCT + 10 * DAY + HOUR,
      customer_id: 'cus_globex',
      customer_name: 'Globex',
      workflow: 'wf-0',
      tokens_input: 1_000,
      tokens_cached_input: 0,
      tokens_output: 500,
      cost_input_nanos: 127_500,
      cost_output_nanos: 255_000,
      cost_total_nanos: 382_500,
      price_version: 'cat1:openai/gpt-4o-mini@2024+ov1:globex-discount',
    }),
    // Bring-your-own-key: booked at 0, listed at 2,000 × 150 + 100 × 600.
    enrichedRow(101, {
      occurred_at: OCT + 10 * DAY + 2 * HOUR,
      customer_id: 'cus_globex',
      customer_name: 'Globex',
      workflow: 'wf-0',
      tokens_input: 2_000,
      tokens_cached_input: 0,
      tokens_output: 100,
      cost_input_nanos: 0,
      cost_output_nanos: 0,
      cost_total_nanos: 0,
      price_version: 'cat1:openai/gpt-4o-mini@2024+ov1:globex-byok',
      byok: 1,
    }),
    // Unknown model: counted, zero cost, flagged.
    enrichedRow(102, {
      occurred_at: OCT + 20 * DAY,
      customer_id: 'cus_initech',
      customer_name: '',
      model: 'mystery-1',
      cost_input_nanos: 0,
      cost_output_nanos: 0,
      cost_total_nanos: 0,
      price_version: '',
      unpriced: 1,
    }),
    // Outside [Oct 1, Nov 1): must not be exported.
    enrichedRow(103, { occurred_at: OCT - 1, customer_id: 'cus_acme', price_version: 'cat1:x' }),
    enrichedRow(104, {
      occurred_at: Date.UTC(2026, 10, 1),
      customer_id: 'cus_acme',
      price_version: 'cat1:x',
    }),
  );
  return rows;
}

beforeAll(async () => {
  ch = await testClickHouse();
  await ch.client.insert({ table: `${ch.database}.usage_events`, values: facts(), format: 'JSONEachRow' });
  dir = mkdtempSync(join(tmpdir(), 'burnrate-focus-'));
  const prices = join(dir, 'prices.json');
  writeFileSync(prices, JSON.stringify(CATALOG));
  // The command opens this file's chDB directory a second time, as a separate `burnrate export` would.
  // No running burnrate serves the HTTP interface (port 1 refuses), so it does open the directory.
  env = {
    BURNRATE_DATA_DIR: ch.path,
    CLICKHOUSE_DATABASE: ch.database,
    BURNRATE_PRICES_FILE: prices,
    CLICKHOUSE_HTTP_PORT: '1',
  };
});
afterAll(() => ch.client.close());

function capture(): CliOutput & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), interactive: false };
}

/** `burnrate export focus …` exactly as main.ts runs it: printed errors and exit codes included. */
function focus(argv: string[], io: CliOutput, host: { env?: NodeJS.ProcessEnv; now?: () => number } = {}) {
  return runCliToExitCode(['export', 'focus', ...argv], { onSignal: () => {}, env, ...host }, io);
}

async function exportTo(argv: string[], host: { env?: NodeJS.ProcessEnv; now?: () => number } = {}) {
  const io = capture();
  const code = await focus(argv, io, host);
  return { code, stdout: io.stdout.join(''), stderr: io.stderr.join('') };
}

function parseCsv(text: string): { header: string[]; rows: Record<string, string>[] } {
  const records = parse(text) as string[][];
  const [header = [], ...body] = records;
  return { header, rows: body.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']))) };
}

async function clickhouse<T>(query: string): Promise<T[]> {
  const result = await ch.client.query({ query, format: 'JSONEachRow' });
  return result.json<T>();
}

const RANGE = `occurred_at >= '2026-10-01 00:00:00' AND occurred_at < '2026-11-01 00:00:00'`;

describe('burnrate export focus', () => {
  let rows: Record<string, string>[];

  it('writes the FOCUS header and well-formed rows to --out', async () => {
    const out = join(dir, 'october.csv');
    const result = await exportTo(['--from', '2026-10-01', '--to', '2026-11-01', '--out', out]);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    const csv = parseCsv(readFileSync(out, 'utf8'));
    expect(csv.header).toEqual(EXPECTED_HEADER);
    rows = csv.rows;
    expect(rows.length).toBeGreaterThan(10);
    for (const row of rows) {
      for (const column of NEVER_EMPTY) expect(row[column], column).not.toBe('');
      for (const column of DATETIMES) expect(row[column], column).toMatch(ISO_UTC);
      for (const column of DECIMALS) expect(row[column], column).toMatch(DECIMAL);
      expect(row.ChargeCategory).toBe('Usage');
      expect(row.ChargeClass).toBe('');
      expect(row.ChargeFrequency).toBe('Usage-Based');
      expect(row.BillingCurrency).toBe('USD');
      expect(row.ServiceCategory).toBe('AI and Machine Learning');
      expect(row.ServiceSubcategory).toBe('Generative AI');
      expect(row.PricingCategory).toBe('Standard');
      expect(Date.parse(row.ChargePeriodEnd!) - Date.parse(row.ChargePeriodStart!)).toBe(DAY);
      expect(row.BillingPeriodStart).toBe('2026-10-01T00:00:00Z');
      expect(row.BillingPeriodEnd).toBe('2026-11-01T00:00:00Z');
      // Costs are exact decimal images of the nano-USD columns; billed = effective = contracted.
      expect(usdToNanos(row.BilledCost, 'BilledCost')).toBe(BigInt(row.x_BilledCostNanos!));
      expect(usdToNanos(row.ListCost, 'ListCost')).toBe(BigInt(row.x_ListCostNanos!));
      expect(row.EffectiveCost).toBe(row.BilledCost);
      expect(row.ContractedCost).toBe(row.BilledCost);
      if (row.ConsumedUnit === 'Tokens') {
        expect(row.PricingUnit).toBe('1000000 Tokens');
        // PricingQuantity is the token count in millions, exactly: read as a 9-decimal amount, it is tokens × 1,000.
        expect(usdToNanos(row.PricingQuantity, 'PricingQuantity')).toBe(
          BigInt(row.ConsumedQuantity!) * 1_000n,
        );
      } else {
        expect(row.PricingQuantity).toBe(row.ConsumedQuantity);
      }
    }
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('sums BilledCost per SubAccountId to exactly what ClickHouse holds', async () => {
    const expected = await clickhouse<{ customer_id: string; nanos: string }>(
      `SELECT customer_id, toString(sum(cost_total_nanos)) AS nanos FROM ${ch.database}.usage_events WHERE ${RANGE} GROUP BY customer_id`,
    );
    const sums = new Map<string, bigint>();
    for (const row of rows) {
      const id = row.SubAccountId!;
      sums.set(id, (sums.get(id) ?? 0n) + usdToNanos(row.BilledCost, 'BilledCost'));
    }
    expect(Object.fromEntries([...sums].map(([k, v]) => [k, v.toString()]))).toEqual(
      Object.fromEntries(expected.map((r) => [r.customer_id, r.nanos])),
    );
    expect(sums.get('cus_acme')).toBeGreaterThan(80_000_000n);
  });

  it('sums ConsumedQuantity per charge kind to the token and request counts', async () => {
    const [expected] = await clickhouse<Record<string, string>>(
      `SELECT toString(sum(tokens_input)) AS input, toString(sum(tokens_cached_input)) AS cached_input,
              toString(sum(tokens_output)) AS output, toString(sum(tokens_reasoning)) AS reasoning,
              toString(sumIf(requests, cost_request_nanos != 0)) AS request, toString(countIf(units_images > 0)) AS units,
              toString(sum(units_images)) AS images
       FROM ${ch.database}.usage_events WHERE ${RANGE}`,
    );
    const sums: Record<string, bigint> = {};
    for (const row of rows) {
      const kind = row.x_ChargeKind!;
      sums[kind] = (sums[kind] ?? 0n) + BigInt(row.ConsumedQuantity!);
    }
    for (const kind of ['input', 'cached_input', 'output', 'reasoning', 'request', 'units']) {
      expect(sums[kind]?.toString(), kind).toBe(expected?.[kind]);
    }
    const units = rows.filter((r) => r.x_ChargeKind === 'units');
    expect(units.map((r) => [r.x_Images, r.x_Events, r.BilledCost, r.SkuMeter])).toEqual([
      [expected?.images, '1', '0.08', 'Images, Audio and Web Search'],
    ]);
    const requests = rows.filter((r) => r.x_ChargeKind === 'request');
    expect(requests.length).toBe(3);
    expect(requests.every((r) => r.BilledCost === '0.001' && r.ConsumedUnit === 'Requests')).toBe(true);
    expect(rows.filter((r) => r.x_ChargeKind !== 'units').every((r) => r.x_Images === '')).toBe(true);
  });

  it('lists the catalog price where an override priced the fact, and the booked cost elsewhere', () => {
    const globex = rows.filter((r) => r.SubAccountId === 'cus_globex');
    const view = globex.map((r) => [r.x_ChargeKind, r.SkuPriceId, r.BilledCost, r.ListCost, r.x_ByokEvents]);
    expect(view).toEqual([
      ['input', 'openai/gpt-4o-mini@2024+globex-byok/input', '0', '0.0003', '1'],
      ['output', 'openai/gpt-4o-mini@2024+globex-byok/output', '0', '0.00006', '1'],
      ['input', 'openai/gpt-4o-mini@2024+globex-discount/input', '0.0001275', '0.00015', '0'],
      ['output', 'openai/gpt-4o-mini@2024+globex-discount/output', '0.000255', '0.0003', '0'],
    ]);
    for (const row of rows.filter((r) => r.SubAccountId === 'cus_acme'))
      expect(row.ListCost).toBe(row.BilledCost);
    const acme = rows.find((r) => r.SubAccountId === 'cus_acme');
    expect(acme?.SubAccountName).toBe('Acme, "Inc"');
    const unpriced = rows.filter((r) => r.SubAccountId === 'cus_initech');
    expect(unpriced.length).toBeGreaterThan(0);
    for (const row of unpriced) {
      expect([
        row.BilledCost,
        row.ListCost,
        row.SkuPriceId,
        row.x_PriceVersion,
        row.x_UnpricedEvents,
      ]).toEqual(['0', '0', '', '', '1']);
      expect(row.SubAccountName).toBe('cus_initech');
      expect(row.ResourceId).toBe('openai/mystery-1');
    }
  });

  it('streams the same CSV to stdout, and splits charge periods by hour with --grain hour', async () => {
    const file = readFileSync(join(dir, 'october.csv'), 'utf8');
    const toStdout = await exportTo(['--from', '2026-10-01', '--to', '2026-11-01']);
    expect(toStdout.code).toBe(0);
    expect(toStdout.stdout).toBe(file);

    // Interactive: the progress bar goes to stderr only; stdout carries the same CSV.
    const io = { ...capture(), interactive: true };
    expect(await focus(['--from', '2026-10-01', '--to', '2026-11-01'], io)).toBe(0);
    expect(io.stdout.join('')).toBe(file);

    const hourly = await exportTo(['--from', '2026-10-01', '--to', '2026-11-01', '--grain', 'hour']);
    const csv = parseCsv(hourly.stdout);
    expect(csv.header).toEqual(EXPECTED_HEADER);
    const periods = new Set(csv.rows.map((r) => r.ChargePeriodStart));
    const [expected] = await clickhouse<{ n: string }>(
      `SELECT toString(uniqExact(toStartOfHour(occurred_at))) AS n FROM ${ch.database}.usage_events WHERE ${RANGE}`,
    );
    expect(String(periods.size)).toBe(expected?.n);
    for (const row of csv.rows) {
      expect(Date.parse(row.ChargePeriodEnd!) - Date.parse(row.ChargePeriodStart!)).toBe(HOUR);
    }
    const total = (rs: Record<string, string>[]) => rs.reduce((s, r) => s + BigInt(r.x_BilledCostNanos!), 0n);
    expect(total(csv.rows)).toBe(total(rows));
  });

  it('reads through the HTTP interface of a running burnrate that owns chDB, as the read-only analyst', async () => {
    const server = createClickHouseHttpServer({
      client: ch.client,
      host: '127.0.0.1',
      port: 0,
      defaultDatabase: ch.database,
      users: [{ name: 'focus-analyst', password: 'pw', readonly: true }],
      logger: silentLogger,
    });
    const { url } = await server.start();
    try {
      // A data directory this process cannot open (a plain file): only the HTTP interface works.
      const owned = join(dir, 'owned-by-burnrate-run');
      writeFileSync(owned, '');
      const result = await exportTo(['--from', '2026-10-01', '--to', '2026-11-01'], {
        env: {
          ...env,
          BURNRATE_DATA_DIR: owned,
          CLICKHOUSE_HTTP_HOST: '127.0.0.1',
          CLICKHOUSE_HTTP_PORT: new URL(url).port,
          CLICKHOUSE_ANALYST_USER: 'focus-analyst',
          CLICKHOUSE_ANALYST_PASSWORD: 'pw',
        },
      });
      expect([result.code, result.stderr]).toEqual([0, '']);
      expect(result.stdout).toBe(readFileSync(join(dir, 'october.csv'), 'utf8'));
    } finally {
      await server.stop();
    }
  });

  it('reads a YAML BURNRATE_PRICES_FILE as the enricher and reprice do', async () => {
    const yaml = join(dir, 'prices.yaml');
    writeFileSync(yaml, stringifyYaml(CATALOG));
    const result = await exportTo(['--from', '2026-10-01', '--to', '2026-11-01'], {
      env: { ...env, BURNRATE_PRICES_FILE: yaml },
    });
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(result.stdout).toBe(readFileSync(join(dir, 'october.csv'), 'utf8'));
  });

  it('defaults to the last full calendar month (UTC)', async () => {
    const now = () => Date.UTC(2026, 10, 15, 10, 30);
    expect(resolveExportPeriod({ grain: 'day' }, 'day', now())).toEqual({
      fromMs: OCT,
      toMs: Date.UTC(2026, 10, 1),
    });
    expect(resolveExportPeriod({ grain: 'day', to: '2026-11-01' }, 'day', now()).fromMs).toBe(OCT);
    expect(resolveExportPeriod({ grain: 'hour', from: '2026-11-15' }, 'hour', now()).toMs).toBe(
      Date.UTC(2026, 10, 15, 10),
    );
    const defaulted = await exportTo([], { now });
    expect(defaulted.code).toBe(0);
    expect(defaulted.stdout).toBe(readFileSync(join(dir, 'october.csv'), 'utf8'));
  });
});

describe('burnrate export focus: bad input', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['an unknown flag', ['--bogus'], /unknown option '--bogus'/],
    [
      'a bad date',
      ['--from', '2026-13-01', '--to', '2026-11-01'],
      /^burnrate: --from "2026-13-01" is not a date/,
    ],
    ['--from after --to', ['--from', '2026-11-01', '--to', '2026-10-01'], /--from .* is not before --to/],
    ['an unknown grain', ['--grain', 'week', '--from', '2026-10-01', '--to', '2026-11-01'], /--grain "week"/],
    [
      'a --from inside a charge period',
      ['--from', '2026-10-01T12:00:00Z', '--to', '2026-11-01'],
      /--from 2026-10-01T12:00:00.000Z is not at the start of a UTC day/,
    ],
    [
      '--out in a missing directory',
      ['--out', '/nonexistent-burnrate-dir/x.csv'],
      /--out \/nonexistent-burnrate-dir\/x.csv cannot be written/,
    ],
  ];
  for (const [what, argv, message] of cases) {
    it(`refuses ${what} with exit 2, one sentence and no file`, async () => {
      const outDir = mkdtempSync(join(tmpdir(), 'burnrate-focus-bad-'));
      const out = join(outDir, 'x.csv');
      const withOut = argv.includes('--out') ? argv : [...argv, '--out', out];
      const result = await exportTo(withOut);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(readdirSync(outDir)).toEqual([]);
    });
  }

  it('refuses an --out whose directory is a file, leaving the file alone', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'burnrate-focus-bad-'));
    writeFileSync(join(outDir, 'plain'), 'x');
    const result = await exportTo(['--out', join(outDir, 'plain', 'x.csv')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--out .* cannot be written \(ENOTDIR\)/);
    expect(readdirSync(outDir)).toEqual(['plain']);
  });

  it('leaves no file behind when the export fails part-way (a database to fix: exit 2, as main.ts exits)', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'burnrate-focus-bad-'));
    const io = capture();
    const code = await focus(
      ['--from', '2026-10-01', '--to', '2026-11-01', '--out', join(outDir, 'x.csv')],
      io,
      {
        env: { ...env, CLICKHOUSE_DATABASE: 'no_such_db' },
      },
    );
    expect(code).toBe(2);
    expect(io.stderr.join('')).toMatch(/^burnrate: /);
    expect(readdirSync(outDir)).toEqual([]);
  });
});
