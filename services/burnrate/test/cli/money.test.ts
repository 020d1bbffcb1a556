import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usd } from '../../src/cli/kit/output.js';
import { createClickHouseHttpServer } from '../../src/clickhouse/http/index.js';
import { enrichedRow, pollUntil, silentLogger, testClickHouse } from '../fixtures.js';
import { cli, cliLive, cliProcess, oneLine } from './cli-harness.js';

// The money commands against a real chDB: every number they print must equal ClickHouse's own sums.
const FROM = '2026-10-01T00:00:00Z';
const TO = '2026-10-02T00:00:00Z';
const base = Date.parse(FROM);
const period = ['--from', FROM, '--to', TO];

let ch: Awaited<ReturnType<typeof testClickHouse>>;
let server: ReturnType<typeof createClickHouseHttpServer>;
let serverUrl: string;

function stepRow(i: number, step: string, parent: string, cost: number, attempt = 1) {
  return enrichedRow(i, {
    occurred_at: base + 3_600_000 + i * 1_000,
    customer_id: 'cust-1',
    workflow: 'research',
    workflow_run_id: 'run-tree',
    step_id: step,
    parent_step_id: parent,
    attempt,
    cost_input_nanos: cost,
    cost_output_nanos: 0,
    cost_total_nanos: cost,
  });
}

const rows = [
  // Ordinary traffic: seven customers on a $200 flat rate.
  ...Array.from({ length: 60 }, (_, i) => enrichedRow(i, { occurred_at: base + i * 60_000 })),
  // A whale: $6 of compute on a $1 plan.
  ...[0, 1, 2].map((i) =>
    enrichedRow(100 + i, {
      occurred_at: base + 7_200_000 + i,
      customer_id: 'whale',
      plan_revenue_nanos: 1_000_000_000,
      cost_input_nanos: 2_000_000_000,
      cost_output_nanos: 0,
      cost_total_nanos: 2_000_000_000,
    }),
  ),
  // No plan price on record: no revenue and no margin, never a made-up one.
  enrichedRow(200, {
    occurred_at: base + 9_000_000,
    customer_id: 'no-plan',
    plan_kind: '',
    plan_currency: '',
    plan_revenue_nanos: 0,
  }),
  // One run as a tree: plan → (search, write → cite); write was attempted twice.
  stepRow(300, 'plan', '', 1_000_000),
  stepRow(301, 'search', 'plan', 2_000_000),
  stepRow(302, 'write', 'plan', 3_000_000),
  stepRow(303, 'write', 'plan', 4_000_000, 2),
  stepRow(304, 'cite', 'write', 500_000),
  // The day before the period, a workflow name carrying a terminal escape (ESC [ 2 J clears the screen).
  enrichedRow(500, {
    occurred_at: base - 86_400_000,
    customer_id: 'cust-1',
    workflow: 'evil\u001b[2J\u0007name',
  }),
  // Outside the period: must not count anywhere.
  enrichedRow(400, { occurred_at: base - 1, customer_id: 'cust-1', cost_total_nanos: 9_000_000_000_000 }),
];

beforeAll(async () => {
  ch = await testClickHouse();
  await ch.client.command({
    query: `INSERT INTO ${ch.database}.usage_events FORMAT JSONEachRow\n${rows
      .map((r, i) =>
        JSON.stringify({ ...r, kafka_topic: 'usage.enriched', kafka_partition: 0, kafka_offset: i }),
      )
      .join('\n')}`,
  });
  server = createClickHouseHttpServer({
    client: ch.client,
    host: '127.0.0.1',
    port: 0,
    defaultDatabase: ch.database,
    users: [
      { name: 'default', password: '', readonly: false },
      { name: 'cli-analyst', password: 'pw', readonly: true },
    ],
    logger: silentLogger,
  });
  serverUrl = (await server.start()).url;
  Object.assign(process.env, {
    BURNRATE_DATA_DIR: ch.path,
    CLICKHOUSE_DATABASE: ch.database,
    BURNRATE_ROLES: 'all',
    CLICKHOUSE_HTTP_HOST: '127.0.0.1',
    CLICKHOUSE_HTTP_PORT: String(new URL(serverUrl).port),
    CLICKHOUSE_ANALYST_USER: 'cli-analyst',
    CLICKHOUSE_ANALYST_PASSWORD: 'pw',
    LOG_LEVEL: 'warn',
  });
  delete process.env.CLICKHOUSE_URL;
});
afterAll(async () => {
  await server?.stop();
  await ch?.client.close();
});

async function sql<T>(query: string): Promise<T[]> {
  const rs = await ch.client.query({
    query,
    query_params: { from: base, to: Date.parse(TO) },
    format: 'JSONEachRow',
  });
  return rs.json<T>();
}
const IN_PERIOD = `occurred_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND occurred_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`;

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function factCount(): Promise<string> {
  return (await sql<{ n: string }>(`SELECT count() AS n FROM ${ch.database}.usage_events`))[0]!.n;
}

describe('burnrate top', () => {
  it('top customers --json equals ClickHouse sums to the nano, with margin from the plan price', async () => {
    const r = await cli(['top', 'customers', ...period, '--limit', '100', '--json']);
    expect(r.code).toBe(0);
    const got = JSON.parse(r.out);
    const want = await sql<Record<string, string>>(
      `SELECT customer_id, toString(sum(cost_total_nanos)) AS cost, toString(count()) AS calls,
        toString(sum(tokens_input)) AS ti, toString(sum(tokens_cached_input)) AS tc, toString(sum(tokens_output)) AS tout
       FROM ${ch.database}.usage_events WHERE ${IN_PERIOD} GROUP BY customer_id ORDER BY sum(cost_total_nanos) DESC, customer_id`,
    );
    expect(got.rows.map((x: { customer_id: string }) => x.customer_id)).toEqual(
      want.map((w) => w.customer_id),
    );
    for (const [i, w] of want.entries()) {
      const g = got.rows[i];
      expect([g.cost_nanos, g.calls, g.tokens.input, g.tokens.cached_input, g.tokens.output]).toEqual([
        w.cost,
        w.calls,
        w.ti,
        w.tc,
        w.tout,
      ]);
    }
    const whale = got.rows.find((x: { customer_id: string }) => x.customer_id === 'whale');
    expect([whale.revenue_nanos, whale.margin_nanos]).toEqual(['1000000000', '-5000000000']);
    const noPlan = got.rows.find((x: { customer_id: string }) => x.customer_id === 'no-plan');
    expect([noPlan.revenue_nanos, noPlan.margin_nanos]).toEqual([null, null]);
  });

  it('prints an aligned table with USD, most expensive first', async () => {
    const r = await cli(['top', 'customers', ...period]);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^CUSTOMER\s+CALLS\s+INPUT\s+CACHED\s+CACHE WRITE\s+OUTPUT\s+REASONING\s+COST\s+MARGIN$/,
    );
    expect(lines[1]).toMatch(/^whale\s+3\s.*\$6\.00\s+-\$5\.00$/);
    // Right-aligned: every row (no plan: MARGIN "—") ends in the same column as the header.
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });

  it('reads the same through the HTTP interface a running burnrate serves and from the chDB directory', async () => {
    const viaHttp = await cli(['top', 'customers', ...period, '--json']);
    const port = process.env.CLICKHOUSE_HTTP_PORT;
    process.env.CLICKHOUSE_HTTP_PORT = String(await closedPort());
    try {
      const embedded = await cli(['top', 'customers', ...period, '--json']);
      expect(embedded.code).toBe(0);
      expect(JSON.parse(embedded.out)).toEqual(JSON.parse(viaHttp.out));
    } finally {
      process.env.CLICKHOUSE_HTTP_PORT = port;
    }
  });

  it('never prints a control character from stored data (an ESC in a workflow name)', async () => {
    const r = await cli(['top', 'workflows', '--from', '2026-09-30', '--to', '2026-10-01']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('evil[2Jname');
    expect(r.out).not.toMatch(/\p{Cc}(?<!\n)/u);
  });

  it.each(['workflows', 'features', 'models', 'steps'])(
    'top %s adds up to the period total',
    async (what) => {
      const r = await cli(['top', what, ...period, '--limit', '1000', '--json']);
      expect(r.code).toBe(0);
      const total = (
        await sql<{ c: string }>(
          `SELECT toString(sum(cost_total_nanos)) AS c FROM ${ch.database}.usage_events WHERE ${IN_PERIOD}`,
        )
      )[0]!.c;
      const sum = JSON.parse(r.out).rows.reduce(
        (s: bigint, x: { cost_nanos: string }) => s + BigInt(x.cost_nanos),
        0n,
      );
      expect(sum.toString()).toBe(total);
    },
  );
});

describe('burnrate margin and whales', () => {
  it('margin: revenue, cost, margin and margin % per customer, worst first', async () => {
    const r = await cli(['margin', ...period, '--json']);
    expect(r.code).toBe(0);
    const got = JSON.parse(r.out).rows;
    expect(got[0]).toMatchObject({
      customer_id: 'whale',
      revenue_nanos: '1000000000',
      cost_nanos: '6000000000',
      margin_nanos: '-5000000000',
      margin_percent: '-500.00',
    });
    expect(got.at(-1).customer_id).toBe('no-plan');
    const table = await cli(['margin', ...period]);
    expect(table.out).toMatch(/whale\s+flat_rate\s+3\s+\$1\.00\s+\$6\.00\s+-\$5\.00\s+-500\.00%/);
  });

  it('whales: cost at least the multiple of revenue, as the whale rule', async () => {
    const r = await cli(['whales', ...period, '--json']);
    expect(JSON.parse(r.out).rows.map((w: { customer_id: string }) => w.customer_id)).toEqual(['whale']);
    expect(JSON.parse(r.out).rows[0].cost_to_revenue).toBe('6.00');
    const none = await cli(['whales', ...period, '--multiple', '10']);
    expect(none.out).toMatch(/^No customer costs 10× its plan revenue/);
  });
});

describe('burnrate runs', () => {
  it('lists the most expensive runs with their costs', async () => {
    const r = await cli(['runs', ...period, '--json']);
    const runs = JSON.parse(r.out).rows;
    expect(runs[0]).toMatchObject({
      workflow_run_id: 'run-20',
      customer_id: 'whale',
      cost_nanos: '6000000000',
    });
    expect(runs.find((x: { workflow_run_id: string }) => x.workflow_run_id === 'run-tree')).toMatchObject({
      steps: '4',
      calls: '5',
      cost_nanos: '10500000',
    });
    const costs = runs.map((x: { cost_nanos: string }) => BigInt(x.cost_nanos));
    expect([...costs].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0))).toEqual(costs);
  });

  it('shows one run as a tree of steps with the cost of each and of each subtree', async () => {
    const r = await cli(['runs', 'show', 'run-tree', ...period]);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe(`Run run-tree: 4 steps, ${usd(10_500_000n)}`);
    const step = (name: string) => lines.find((l) => l.includes(` ${name} `) || l.startsWith(`${name} `))!;
    expect(step('plan')).toMatch(/^plan\s.*\$0\.001\s+\$0\.0105$/);
    expect(step('search')).toMatch(/^├─ search\s.*\$0\.002\s+\$0\.002$/);
    expect(step('write')).toMatch(/^└─ write\s.*\s2\s.*\$0\.007\s+\$0\.0075$/);
    expect(step('cite')).toMatch(/^ {3}└─ cite\s.*\$0\.0005\s+\$0\.0005$/);
    const json = JSON.parse((await cli(['runs', 'show', 'run-tree', ...period, '--json'])).out);
    expect(json.steps[0].subtree_cost_nanos).toBe('10500000');
    expect(json.steps[0].children.map((c: { step: { step_id: string } }) => c.step.step_id)).toEqual([
      'search',
      'write',
    ]);
  });
});

describe('burnrate sql', () => {
  it('runs a query as the analyst user over the HTTP interface and prints exact numbers', async () => {
    const query = `SELECT customer_id, sum(cost_total_nanos) AS cost FROM usage_events WHERE customer_id = 'whale' GROUP BY customer_id`;
    const r = await cli(['sql', query, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).rows).toEqual([['whale', '6000000000']]);
    const table = await cli(['sql', query]);
    expect(table.out).toMatch(/^customer_id\s+cost\nwhale\s+6000000000\n\n1 row\n$/);
  });

  it('a refused statement is one line from ClickHouse, exit 2, and changes nothing', async () => {
    const before = await factCount();
    const r = await cli(['sql', 'DROP TABLE usage_events']);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toBe(true);
    expect(r.err).toMatch(/ClickHouse refused the query: .*READONLY/);
    expect(await factCount()).toBe(before);
  });
});

describe('burnrate alerts tail', () => {
  it('prints an alert recorded after it started, and stops on the signal', async () => {
    let stop: (() => void) | undefined;
    const tail = cliLive(['alerts', 'tail', '--interval', '1'], (s) => {
      stop = s;
    });
    expect(await pollUntil(async () => stop, Boolean, 10_000)).toBeDefined();
    await ch.client.insert({
      table: `${ch.database}.alerts`,
      format: 'JSONEachRow',
      values: [
        {
          message_id: 'msg-tail-1',
          alert_id: 'a1',
          event: 'fired',
          rule: 'whale',
          severity: 'critical',
          subject: 'customer whale',
          customer_id: 'whale',
          threshold: '5x',
          period: '2026-10-01',
          value: '6',
          limit_value: '1',
          unit: 'usd',
          summary: 'whale costs 6x',
          at: Date.now(),
          payload: '{}',
        },
      ],
    });
    const printed = await pollUntil(
      async () => tail.live.out,
      (o) => o.includes('msg') || o.includes('whale costs'),
      20_000,
    );
    expect(printed).toMatch(/fired\s+critical\s+whale\s+customer whale\s+5x\s+whale costs 6x/);
    stop!();
    const done = await tail.done;
    expect(done.code).toBe(0);
    // Printed once, though every poll reads it again.
    expect(done.out.match(/whale costs 6x/g)).toHaveLength(1);
  });
});

describe('bad input: one sentence, exit 2, nothing changed', () => {
  it.each([
    [['top', 'nonsense'], /"nonsense" is not one of customers, workflows/],
    [['top', 'customers; DROP TABLE usage_events'], /is not one of customers/],
    [['top', 'customers', '--bogus'], /unknown option '--bogus'; see burnrate top --help/],
    [['top', 'customers', '--from', 'yesterday'], /--from "yesterday" is not a date/],
    [['top', 'customers', '--from', TO, '--to', FROM], /--from .* is not before --to/],
    [['top', 'customers', '--limit', '1; DROP TABLE x'], /--limit .* is not a whole number/],
    [['margin', '--to', 'tomorrow'], /--to "tomorrow" is not a date/],
    [['whales', '--multiple', '-1'], /--multiple "-1" is not a positive decimal/],
    [['runs', 'show', "run-tree' OR '1'='1", ...period], /There is no workflow run "run-tree' OR '1'='1"/],
    [['sql'], /No query given/],
    [['sql', '--file', '/nonexistent/q.sql'], /--file \/nonexistent\/q.sql cannot be read \(ENOENT\)/],
    [['alerts', 'list', '--limit', 'lots'], /--limit "lots" is not a whole number/],
    [['alerts', 'replay'], /needs a job id/],
    [['customers', 'import', '/nonexistent/customers.csv'], /cannot be read \(ENOENT\)/],
    [['keys', 'create'], /required option '--id <id>' not specified/],
    [['nonsense'], /unknown command 'nonsense'/],
  ])('%j', async (argv, message) => {
    const before = await factCount();
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toBe(true);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
    expect(await factCount()).toBe(before);
  });

  it('reprice still gets its raw arguments (its own parser answers)', async () => {
    const before = await factCount();
    const r = await cli(['reprice', '--from', '2026-09-21', '--to', 'soon']);
    expect(r.code).toBe(2);
    expect(await factCount()).toBe(before);
  });

  it('help exits 0', async () => {
    const r = await cli(['top', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Usage: burnrate top \[options\] <what>/);
  });
});

describe('as a child process', () => {
  it('exit codes: 0 with the same JSON as in-process, 2 with one sentence', async () => {
    const env = { CLICKHOUSE_URL: serverUrl, BURNRATE_ROLES: 'api' };
    const ok = await cliProcess(['top', 'customers', ...period, '--json'], env);
    expect(ok.code).toBe(0);
    const inProcess = await cli(['top', 'customers', ...period, '--json']);
    expect(JSON.parse(ok.out)).toEqual(JSON.parse(inProcess.out));
    const bad = await cliProcess(['top', 'customers; DROP TABLE usage_events', ...period], env);
    expect(bad.code).toBe(2);
    expect(oneLine(bad.err)).toBe(true);
    const unknown = await cliProcess(['top', 'customers', '--bogus'], env);
    expect([unknown.code, oneLine(unknown.err)]).toEqual([2, true]);
  });
});
