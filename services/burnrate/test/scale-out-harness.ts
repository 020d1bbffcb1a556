import type { ChildProcess } from 'node:child_process';
import { encodeUsageEvent, newEventId, type UsageEvent } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import { type Admin, AssignerProtocol, type Kafka } from 'kafkajs';
import { makeUsageEvent } from '../../core/test/fixtures/usage-events.js';
import { pollUntil } from './fixtures.js';
import { spawnBurnrate } from './process-harness.js';
import { get, sample } from './runtime/ops-harness.js';

/**
 * Pieces of the scale-out test (scale-out.test.ts): role processes whose /metrics the test reads,
 * consumer-group assignments read from the broker, a price catalog whose costs are whole nano-USD
 * per token (so the expected total is plain integer arithmetic, independent of the pricing code),
 * and the two checks — work shared, totals exact — as functions returning their problems, so a
 * negative control can show each one failing.
 */

/** nano-USD per token of each bucket: a price of P USD per million tokens is P × 1,000 nanos per token. */
export const RATES = {
  'scale-small': {
    input: 2_000n,
    cached_input: 1_000n,
    cache_write: 3_000n,
    output: 8_000n,
    reasoning: 16_000n,
  },
  'scale-large': {
    input: 5_000n,
    cached_input: 2_000n,
    cache_write: 7_000n,
    output: 20_000n,
    reasoning: 40_000n,
  },
} as const;
type Model = keyof typeof RATES;

/** The catalog the enrichers load (BURNRATE_PRICES_FILE): RATES in USD per million tokens. */
export function scaleCatalog(): unknown {
  const perMillion = (nanos: bigint) => String(Number(nanos) / 1_000);
  return {
    version: 'scale1',
    entries: Object.entries(RATES).map(([model, r]) => ({
      id: `openai/${model}@2024`,
      provider: 'openai',
      model,
      valid_from: '2024-01-01',
      tokens_per_million: {
        input: perMillion(r.input),
        cached_input: perMillion(r.cached_input),
        cache_write: perMillion(r.cache_write),
        output: perMillion(r.output),
        reasoning: perMillion(r.reasoning),
      },
      source_url: 'https://example.com/pricing',
      as_of: '2026-01-01',
    })),
  };
}

/** Event i of a run: 240 customers (spread over every partition), two models, five hours, varied tokens. */
export function scaleEvent(i: number, nowMs: number): UsageEvent {
  return makeUsageEvent({
    event_id: newEventId(),
    occurred_at: nowMs - 60_000 - (i % 5) * 3_600_000,
    customer_ref: `org_${i % 240}`,
    workflow: `wf-${i % 6}`,
    workflow_run_id: `run-${i % 240}-${Math.floor(i / 2_400)}`,
    step_id: `s${i}`,
    feature: `f${i % 4}`,
    provider: 'openai',
    model: i % 3 === 0 ? 'scale-large' : 'scale-small',
    tokens: {
      input: 500 + (i % 1_000),
      cached_input: i % 3 === 0 ? 256 : 0,
      cache_write: i % 7 === 0 ? 128 : 0,
      output: 100 + (i % 300),
      reasoning: i % 5 === 0 ? 64 : 0,
    },
    units: { images: 0, audio_ms: 0, web_search_calls: 0 },
    provider_reported_cost_nanos: null,
  });
}

/** What the event must cost under scaleCatalog(): Σ tokens × rate, in integers. */
export function expectedCost(e: UsageEvent): bigint {
  const r = RATES[e.model as Model];
  const t = e.tokens;
  return (
    BigInt(t.input) * r.input +
    BigInt(t.cached_input) * r.cached_input +
    BigInt(t.cache_write) * r.cache_write +
    BigInt(t.output) * r.output +
    BigInt(t.reasoning) * r.reasoning
  );
}

/** Produces the events as services do: Avro single-object records keyed by customer_ref, acks from all replicas. */
export async function produceEvents(kafka: Kafka, topic: string, events: UsageEvent[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 5_000) {
      const messages = events
        .slice(i, i + 5_000)
        .map((e) => ({ key: e.customer_ref, value: encodeUsageEvent(e) }));
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/** A `burnrate run` child process and the /metrics URL it logged. */
export interface RoleProcess {
  name: string;
  child: ChildProcess;
  output: () => string;
  metricsUrl: string;
}

/** Spawns `burnrate run` with these roles, KAFKA_CLIENT_ID = name (so the group shows who owns what). */
export async function startRole(name: string, env: Record<string, string>): Promise<RoleProcess> {
  const run = spawnBurnrate({ KAFKA_CLIENT_ID: name, ...env });
  const url = await pollUntil(
    async () =>
      /"url":"(http:\/\/127\.0\.0\.1:\d+)","msg":"metrics and health listening"/.exec(run.output())?.[1],
    (u) => u !== undefined || run.child.exitCode !== null,
    60_000,
  );
  if (!url) throw new Error(`${name} did not serve /metrics:\n${run.output()}`);
  return { name, ...run, metricsUrl: url };
}

/** The sum of one metric's samples with these labels in a process's /metrics (0 when absent). */
export async function metric(p: RoleProcess, name: string, labels: Record<string, string>): Promise<number> {
  return sample((await get(`${p.metricsUrl}/metrics`)).text, name, labels) ?? 0;
}

/** A consumer group as the broker's coordinator sees it: its state and, per member (client id), the partitions it owns. */
export interface GroupView {
  state: string;
  members: Array<{ clientId: string; partitions: string[] }>;
}

export async function describeGroup(admin: Admin, groupId: string): Promise<GroupView> {
  const { groups } = await admin.describeGroups([groupId]);
  const group = groups[0]!;
  return {
    state: group.state,
    members: group.members.map((m) => {
      const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
      const partitions = Object.entries(decoded?.assignment ?? {}).flatMap(([topic, ps]) =>
        ps.map((p) => `${topic}/${p}`),
      );
      return { clientId: m.clientId, partitions: partitions.sort() };
    }),
  };
}

/**
 * Why a group's work is not shared between `members` (empty when it is): the group must be Stable,
 * have exactly these members, each owning at least one partition, and together own each of the
 * `partitions` exactly once.
 */
export function sharingProblems(view: GroupView, members: string[], partitions: string[]): string[] {
  const problems: string[] = [];
  if (view.state !== 'Stable') problems.push(`group state is ${view.state}, not Stable`);
  const have = view.members.map((m) => m.clientId).sort();
  if (JSON.stringify(have) !== JSON.stringify([...members].sort()))
    problems.push(`members are [${have.join(', ')}], expected [${[...members].sort().join(', ')}]`);
  for (const m of view.members)
    if (m.partitions.length === 0) problems.push(`${m.clientId} owns no partition`);
  const owned = view.members.flatMap((m) => m.partitions).sort();
  if (JSON.stringify(owned) !== JSON.stringify([...partitions].sort()))
    problems.push(`partitions owned [${owned.join(', ')}], expected each of [${partitions.join(', ')}] once`);
  return problems;
}

/** Why per-process counts do not show a shared load (empty when they do): every process > 0, together exactly `total`. */
export function shareProblems(counts: Record<string, number>, total: number): string[] {
  const problems = Object.entries(counts)
    .filter(([, n]) => n <= 0)
    .map(([name]) => `${name} handled no event`);
  const sum = Object.values(counts).reduce((a, b) => a + b, 0);
  if (sum !== total) problems.push(`together they handled ${sum}, expected ${total}`);
  return problems;
}

/** Exact totals of the fact table and the rollups, as decimal strings (ClickHouse's 64-bit integers). */
export interface Totals {
  facts: string;
  uniqueIds: string;
  cost: string;
  hourlyEvents: string;
  hourlyCost: string;
  periodEvents: string;
  periodCost: string;
  deadLetters: string;
  /** customer_id → "events/cost" where the facts and usage_hourly disagree. */
  customersDisagreeing: Record<string, string>;
}

/** Why the observed totals are not exactly N facts, N ids, the expected cost, agreeing rollups and no dead letters. */
export function totalsProblems(t: Totals, expected: { events: number; cost: bigint }): string[] {
  const n = String(expected.events);
  const cost = expected.cost.toString();
  const want: Array<[keyof Totals, string]> = [
    ['facts', n],
    ['uniqueIds', n],
    ['cost', cost],
    ['hourlyEvents', n],
    ['hourlyCost', cost],
    ['periodEvents', n],
    ['periodCost', cost],
    ['deadLetters', '0'],
  ];
  const problems = want
    .filter(([k, v]) => t[k] !== v)
    .map(([k, v]) => `${k} is ${String(t[k])}, expected ${v}`);
  for (const [customer, diff] of Object.entries(t.customersDisagreeing))
    problems.push(`customer ${customer}: facts and usage_hourly differ (${diff})`);
  return problems;
}

/** Reads Totals from the facts, the two rollups and dead_letters. */
export async function readTotals(client: ClickHouseClient, db: string): Promise<Totals> {
  const one = async (query: string) => {
    const rs = await client.query({ query, format: 'JSONEachRow' });
    return (await rs.json<Record<string, string>>())[0]!;
  };
  const facts = await one(
    `SELECT count() AS n, uniqExact(event_id) AS ids, sum(cost_total_nanos) AS cost FROM ${db}.usage_events`,
  );
  const hourly = await one(`SELECT sum(events) AS n, sum(cost_total_nanos) AS cost FROM ${db}.usage_hourly`);
  const period = await one(
    `SELECT sum(events) AS n, sum(cost_total_nanos) AS cost FROM ${db}.customer_period_cost`,
  );
  const dead = await one(`SELECT count() AS n FROM ${db}.dead_letters`);
  const rs = await client.query({
    query: `SELECT customer_id, f.n AS fn, f.cost AS fc, h.n AS hn, h.cost AS hc
            FROM (SELECT customer_id, count() AS n, sum(cost_total_nanos) AS cost FROM ${db}.usage_events GROUP BY customer_id) AS f
            FULL OUTER JOIN (SELECT customer_id, sum(events) AS n, sum(cost_total_nanos) AS cost FROM ${db}.usage_hourly GROUP BY customer_id) AS h
            USING customer_id
            WHERE f.n != h.n OR f.cost != h.cost`,
    format: 'JSONEachRow',
  });
  const customersDisagreeing: Record<string, string> = {};
  for (const r of await rs.json<Record<string, string>>())
    customersDisagreeing[r.customer_id!] = `facts ${r.fn}/${r.fc}, hourly ${r.hn}/${r.hc}`;
  return {
    facts: facts.n!,
    uniqueIds: facts.ids!,
    cost: facts.cost!,
    hourlyEvents: hourly.n!,
    hourlyCost: hourly.cost!,
    periodEvents: period.n!,
    periodCost: period.cost!,
    deadLetters: dead.n!,
    customersDisagreeing,
  };
}
