import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testClickHouse } from './fixtures.js';
import { seedOverview } from './overview/seed.js';

// Every ClickHouse panel (and template variable) of infra/grafana/dashboards/*.json runs against the
// real schema with seeded facts, after the Grafana ClickHouse plugin's macros are expanded as the
// plugin does; it must succeed, return rows and the columns the panel relies on.
const dir = `${inject('rootDir')}/infra/grafana/dashboards`;
interface Target {
  datasource: { type: string; uid: string };
  rawSql?: string;
  expr?: string;
  format?: number;
}
interface Panel {
  title: string;
  type: string;
  targets: Target[];
  fieldConfig?: { overrides?: Array<{ matcher: { id: string; options: string } }> };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; query: string; datasource: { type: string } }> };
}
const dashboards = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, json: JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as Dashboard }));
const CLICKHOUSE = 'grafana-clickhouse-datasource';
const panels = dashboards.flatMap(({ file, json }) =>
  json.panels.flatMap((panel) =>
    panel.targets
      .filter((t) => t.datasource.type === CLICKHOUSE)
      .map((target) => ({ name: `${file} › ${panel.title}`, panel, target, dashboard: json })),
  ),
);

const NOW_S = Math.floor(Date.now() / 1_000);
const RANGE = { fromS: NOW_S - 7 * 86_400, toS: NOW_S, intervalS: 3_600 };

/** Replaces `$__name(args)` (balanced parentheses) with what `expand(args)` gives. */
function macro(sql: string, name: string, expand: (args: string) => string): string {
  const token = `$__${name}(`;
  let out = sql;
  for (let at = out.indexOf(token); at >= 0; at = out.indexOf(token, at)) {
    let depth = 0;
    let end = at + token.length - 1;
    for (; end < out.length; end++) {
      if (out[end] === '(') depth++;
      else if (out[end] === ')' && --depth === 0) break;
    }
    const replacement = expand(out.slice(at + token.length, end));
    out = out.slice(0, at) + replacement + out.slice(end + 1);
    at += replacement.length;
  }
  return out;
}

/** The plugin's macros and template variables, with concrete values (`null` = "All" selected). */
function expandGrafana(sql: string, vars: Record<string, string[] | null>): string {
  let out = macro(sql, 'conditionalAll', (args) => {
    const split = args.lastIndexOf(',');
    const name = args
      .slice(split + 1)
      .trim()
      .replace(/^\$\{?|\}$/g, '');
    return vars[name] === null ? '1=1' : args.slice(0, split);
  });
  out = macro(
    out,
    'timeFilter',
    (c) => `${c} >= toDateTime(${RANGE.fromS}) AND ${c} <= toDateTime(${RANGE.toS})`,
  );
  out = macro(
    out,
    'timeInterval',
    (c) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${RANGE.intervalS} second)`,
  );
  out = out
    .replaceAll('$__fromTime', `toDateTime(${RANGE.fromS})`)
    .replaceAll('$__toTime', `toDateTime(${RANGE.toS})`)
    .replaceAll('$__interval_s', String(RANGE.intervalS));
  out = out.replace(/\$\{(\w+)(?::(\w+))?\}|\$(\w+)/g, (all, a, fmt, b) => {
    const values = vars[a ?? b];
    if (values === undefined) return all;
    const list = values ?? [];
    return fmt === 'singlequote'
      ? list.map((v) => `'${v.replaceAll("'", "\\'")}'`).join(',')
      : list.join(',');
  });
  expect(out, 'every macro expanded').not.toMatch(/\$__|\$\{|\$[a-z]/);
  return out;
}

let ch: Awaited<ReturnType<typeof testClickHouse>>;

beforeAll(async () => {
  ch = await testClickHouse('burnrate');
  await seedOverview(ch.client, 'burnrate', Date.now());
  const attempt = {
    attempt_id: 'a-1',
    message_id: 'msg-1',
    alert_id: 'alert-1',
    destination: 'oncall',
    kind: 'webhook',
    attempt: 1,
    outcome: 'delivered',
    status: 200,
    error: '',
    duration_ms: 12,
    at: Date.now() - 3_000_000,
  };
  await ch.client.command({
    query: `INSERT INTO burnrate.alert_deliveries FORMAT JSONEachRow\n${JSON.stringify(attempt)}`,
  });
});
afterAll(() => ch?.client.close());

async function run(sql: string) {
  const rs = await ch.client.query({ query: sql, format: 'JSONCompactEachRowWithNamesAndTypes' });
  const [names, types, ...rows] = await rs.json<unknown[]>();
  return { names: names as string[], types: types as string[], rows };
}

describe('Grafana dashboards', () => {
  it('cover cost by customer, workflow, feature and model; margins and whales; alerts; pipeline health', () => {
    expect(dashboards.map((d) => d.json.uid).sort()).toEqual([
      'burnrate-alerts',
      'burnrate-cost',
      'burnrate-margins',
      'burnrate-pipeline',
    ]);
    const cost = dashboards.find((d) => d.json.uid === 'burnrate-cost')!.json.panels.map((p) => p.title);
    for (const dim of ['customer', 'workflow', 'feature', 'model']) expect(cost).toContain(`Spend by ${dim}`);
    expect(panels.length).toBeGreaterThanOrEqual(15);
  });

  it.each(panels.map((p) => [p.name, p] as const))(
    '%s runs against the real schema and returns its columns',
    async (_, { panel, target, dashboard }) => {
      const variables = dashboard.templating.list.filter((v) => v.datasource.type === CLICKHOUSE);
      // Each variable's own query runs too; the panel then runs with "All" and with its first value.
      const choices: Array<Record<string, string[] | null>> = [{}];
      for (const v of variables) {
        const { rows } = await run(expandGrafana(v.query, {}));
        expect(rows.length, `variable ${v.name}`).toBeGreaterThan(0);
        choices[0]![v.name] = null;
        choices.push({ ...choices[0], [v.name]: [String((rows[0] as unknown[])[0])] });
      }
      for (const vars of choices) {
        const { names, types, rows } = await run(expandGrafana(target.rawSql!, vars));
        expect(rows.length, JSON.stringify(vars)).toBeGreaterThan(0);
        if (panel.type === 'timeseries') {
          expect(names[0]).toBe('time');
          expect(types[0]).toMatch(/^DateTime/);
          expect(types.at(-1)).toMatch(/Int|Float|Decimal/);
        }
        for (const o of panel.fieldConfig?.overrides ?? []) {
          if (o.matcher.id === 'byName') expect(names).toContain(o.matcher.options);
        }
      }
    },
  );

  it('draws pipeline health from the roles’ burnrate_* Prometheus metrics', () => {
    const exprs = dashboards
      .flatMap((d) => d.json.panels.flatMap((p) => p.targets))
      .filter((t) => t.datasource.type === 'prometheus')
      .map((t) => t.expr!);
    expect(exprs.length).toBeGreaterThanOrEqual(3);
    const metrics = new Set(exprs.flatMap((e) => [...e.matchAll(/\bburnrate_[a-z_]+/g)].map((m) => m[0])));
    expect(metrics).toEqual(
      new Set(['burnrate_events_in_total', 'burnrate_dead_letters_total', 'burnrate_consumer_lag']),
    );
  });
});
