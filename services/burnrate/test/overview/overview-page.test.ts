import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createApp } from '../../src/runtime/app.js';
import { createLifecycle, type Lifecycle } from '../../src/runtime/lifecycle.js';
import { recordFatal, silentLogger, testClickHouseServer, uniquePrefix } from '../fixtures.js';
import { ensureChromium } from './chromium.js';
import { SEED, seedOverview } from './seed.js';

// End to end: `burnrate run` wiring with BURNRATE_ROLES=overview against a ClickHouse server (chDB
// behind the HTTP interface) holding seeded facts, driven by a real headless Chromium. Screenshots go
// to docs/images/ only with UPDATE_SCREENSHOTS=1 (never rewritten on CI), else to a temp directory.
const shots =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? join(inject('rootDir'), 'docs', 'images')
    : mkdtempSync(join(tmpdir(), 'burnrate-overview-'));
// The browser's globals inside page.evaluate, loosely typed: this project compiles without the DOM library.
// biome-ignore lint/suspicious/noExplicitAny: see above
type PageGlobals = any;
const CHARTS = ['spend-customer', 'spend-workflow', 'spend-model', 'margins', 'routing', 'health'];

let ch: Awaited<ReturnType<typeof testClickHouseServer>>;
let lifecycle: Lifecycle;
let url: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const executablePath = ensureChromium();
  ch = await testClickHouseServer();
  await seedOverview(ch.client, ch.database, Date.now());
  const config = loadConfig({
    BURNRATE_ROLES: 'overview',
    KAFKA_BROKERS: inject('kafkaBrokers'),
    BURNRATE_TOPIC_PREFIX: uniquePrefix(),
    CLICKHOUSE_URL: ch.url,
    CLICKHOUSE_DATABASE: ch.database,
    OVERVIEW_PORT: '0',
    METRICS_PORT: '0',
    ROUTING_MIN_CALLS: '5',
  });
  const app = createApp(config, { logger: silentLogger, fatal: recordFatal });
  const overview = app.components.find((c) => c.name === 'overview') as unknown as { url(): string };
  lifecycle = createLifecycle(app.components, silentLogger, 10_000);
  await lifecycle.start();
  url = overview.url();
  browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 1900 } });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await lifecycle?.stop();
  await ch?.stop();
});

/** Waits for a finished render of the given scope, then checks every chart's ECharts instance has data. */
async function rendered(scope: string) {
  await page.waitForFunction(
    (s) =>
      (globalThis as PageGlobals).document.body.dataset.ready === '1' &&
      (globalThis as PageGlobals).document.body.dataset.scope === s,
    scope,
    {
      timeout: 30_000,
    },
  );
  // Hit-testing uses the bars as drawn: wait until ECharts has finished drawing (animations included).
  await page.waitForFunction(
    (ids) =>
      ids.every(
        (id) => (globalThis as PageGlobals).document.getElementById(`chart-${id}`).dataset.drawn === '1',
      ),
    CHARTS,
    { timeout: 30_000 },
  );
  for (const id of CHARTS) {
    const points = await page.evaluate((el) => {
      const { document, echarts } = globalThis as PageGlobals;
      const node = document.getElementById(`chart-${el}`)!;
      const chart = echarts.getInstanceByDom(node);
      // Non-zero values in the chart instance's own option (stacked series carry zeros as well).
      const values = (chart.getOption().series as Array<{ data: unknown[] }>).flatMap((s) =>
        s.data.map((d) => {
          const v =
            d !== null && typeof d === 'object' && !Array.isArray(d) ? (d as { value: unknown }).value : d;
          return Array.isArray(v) ? v.at(-1) : v;
        }),
      );
      return {
        instance: values.filter((v) => typeof v === 'number' && v !== 0).length,
        attribute: Number(node.dataset.points),
      };
    }, id);
    expect(points.instance, id).toBeGreaterThan(0);
    expect(points.attribute, id).toBe(points.instance);
  }
}

const cells = (table: string, column: number) =>
  page.$$eval(`#${table} tbody tr td:nth-child(${column})`, (tds) => tds.map((td) => td.textContent));

describe('overview page in Chromium', () => {
  it('loads, draws every chart with data, and escapes text', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await rendered('from=7d');
    expect(await page.textContent('#scope')).toBe('All customers');
    expect(await cells('margins', 1)).toHaveLength(SEED.customers.length);
    expect(JSON.parse((await page.getAttribute('#chart-spend-customer', 'data-series'))!)).toHaveLength(
      SEED.customers.length,
    );
    // The alert's summary holds "<b>": shown as text, never as markup.
    expect((await cells('alerts', 5))[0]).toContain('<b>');
    expect(await page.$$('#alerts tbody b')).toHaveLength(0);
    expect(await page.textContent('#margins tbody tr.whale td:first-child')).toBe(SEED.whale);
    // The process's own readiness (the checks /readyz answers), not a placeholder.
    expect(await page.textContent('#health-stats')).toMatch(/(ready|not ready: [\s\S]*)process readiness/);
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'overview.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('drills down to a customer when its bar is clicked', async () => {
    // Where ECharts drew one of the whale's bars on the spend-by-customer chart.
    const target = await page.evaluate((customer) => {
      const { document, echarts } = globalThis as PageGlobals;
      const node = document.getElementById('chart-spend-customer')!;
      const chart = echarts.getInstanceByDom(node);
      const index = chart.getOption().series.findIndex((s: { name: string }) => s.name === customer);
      const data = chart.getModel().getSeriesByIndex(index).getData();
      for (let i = 0; i < data.count(); i++) {
        const box = data.getItemLayout(i);
        if (box && Math.abs(box.height) > 10) {
          const r = node.getBoundingClientRect();
          return { x: r.left + box.x + box.width / 2, y: r.top + box.y + box.height / 2 };
        }
      }
      return null;
    }, SEED.whale);
    expect(target).not.toBeNull();
    await page.mouse.click(target!.x, target!.y);
    await rendered(`from=7d&customer=${SEED.whale}`);
    expect(await page.textContent('#scope')).toBe(`customer: ${SEED.whale}`);
    expect(page.url()).toContain(`customer=${SEED.whale}`);
    expect(new Set(await cells('runs', 2))).toEqual(new Set([SEED.whale]));
    expect(await cells('margins', 1)).toEqual([SEED.whale]);
    expect(await page.getAttribute('#chart-spend-customer', 'data-series')).toBe(
      JSON.stringify([SEED.whale]),
    );
    await page.screenshot({ path: join(shots, 'overview-customer.png'), fullPage: true });

    await page.click('#clear');
    await rendered('from=7d');
    expect(await page.textContent('#scope')).toBe('All customers');
  });

  it("drills down from the margins chart too: the runs become that customer's", async () => {
    expect(new Set(await cells('runs', 2))).toEqual(new Set([SEED.whale])); // the whale's runs cost most
    // acme's plan-revenue bar (the first series) on the margins chart.
    const target = await page.evaluate(() => {
      const { document, echarts } = globalThis as PageGlobals;
      const node = document.getElementById('chart-margins')!;
      const chart = echarts.getInstanceByDom(node);
      const data = chart.getModel().getSeriesByIndex(0).getData();
      const index = chart.getOption().xAxis[0].data.indexOf('acme');
      const box = data.getItemLayout(index);
      const r = node.getBoundingClientRect();
      return { x: r.left + box.x + box.width / 2, y: r.top + box.y + box.height / 2 };
    });
    await page.mouse.click(target.x, target.y);
    await rendered('from=7d&customer=acme');
    expect(await page.textContent('#scope')).toBe('customer: acme');
    expect(new Set(await cells('runs', 2))).toEqual(new Set(['acme']));
    expect(await cells('alerts', 1)).toEqual([]);
  });
});
