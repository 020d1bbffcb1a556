import { decodeUsageEvent, type UsageEvent } from '@burnrate/core';
import { type FuzzPlan, jsonCase } from './cases.js';
import { fuzzReference } from './expected-reference.js';
import { factDifference, type StoredFact, type StoredLetter, storedFacts, storedLetters } from './facts.js';
import { classifyJsonBody, expectedOutcome, type HttpVerdict } from './oracle.js';
import { waitForPipeline } from './pipeline-wait.js';
import { count, emptyReport, fail, type PathReport, timing } from './report.js';
import type { FuzzTarget } from './target.js';
import { TARGET_LIMITS } from './target.js';

export interface HttpFuzzOptions {
  plan: FuzzPlan;
  cases: number;
  /** Requests in flight at once. Default 16. */
  concurrency?: number;
  timeoutMs?: number;
  log?: (line: string) => void;
}

interface Accepted {
  index: number;
  kind: string;
  variant: string;
  event: UsageEvent;
  timeGiven: boolean;
}

/**
 * Path 3: mutated JSON bodies to POST /v1/events of the real api process. Every answer must be what
 * the contract says (200 for valid events, 4xx with a typed JSON error otherwise — naming the field
 * for an event at fault — never 5xx, never no answer); afterwards every accepted event must be in
 * ClickHouse exactly once, as the fact the pure enrichment makes of it (or the timeliness dead
 * letter), and the process alive and ready.
 */
export async function runHttpFuzz(target: FuzzTarget, o: HttpFuzzOptions): Promise<PathReport> {
  const started = performance.now();
  const report = emptyReport('http');
  const accepted = new Map<string, Accepted>();
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= o.cases) return;
      await oneCase(target, o.plan, i, report, accepted);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 16 }, worker));
  o.log?.(`http: ${o.cases} requests answered, ${accepted.size} events accepted; waiting for the pipeline`);

  const admin = target.kafka.admin();
  await admin.connect();
  const ends = (await admin.fetchTopicOffsets(target.topics.events))
    .sort((a, b) => a.partition - b.partition)
    .map((p) => BigInt(p.high));
  await admin.disconnect();
  const total = Number(ends.reduce((a, b) => a + b, 0n));
  const waited = await waitForPipeline(target, ends, total, o.timeoutMs ?? 60_000 + 10 * o.cases);
  if (waited) fail(report, { path: 'http', index: -1, kind: '(run)', variant: '', problem: waited });
  await judgeAccepted(target, accepted, report);

  const health = await target.health();
  if (!health.alive || !health.ready) {
    report.crashes++;
    fail(report, {
      path: 'http',
      index: -1,
      kind: '(process)',
      variant: '',
      problem: `the burnrate process is ${health.alive ? 'not ready' : 'gone'}: ${health.detail}\n${target.output().slice(-2_000)}`,
    });
  }
  report.durationMs = performance.now() - started;
  return report;
}

async function oneCase(
  target: FuzzTarget,
  plan: FuzzPlan,
  i: number,
  report: PathReport,
  accepted: Map<string, Accepted>,
): Promise<void> {
  const c = jsonCase(plan, i);
  const verdict = classifyJsonBody(c.body, { ...TARGET_LIMITS, keyId: target.keyId });
  const problem = (text: string) =>
    fail(report, { path: 'http', index: i, kind: c.kind, variant: c.variant, problem: text });
  const t0 = performance.now();
  let status: number;
  let text: string;
  try {
    const res = await fetch(`${target.apiUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${target.apiKey}`, 'content-type': 'application/json' },
      body: c.body,
      signal: AbortSignal.timeout(30_000),
    });
    status = res.status;
    text = await res.text();
  } catch (error) {
    count(report, c.kind, 'no_answer', verdict.accept);
    problem(`no answer: ${(error as Error).message}`);
    return;
  }
  timing(report, performance.now() - t0, `#${i} ${c.kind} ${c.variant}`);
  count(report, c.kind, `http_${status}`, verdict.accept);
  let body: {
    error?: { code?: unknown; message?: unknown; field?: unknown };
    results?: Array<Record<string, unknown>>;
  };
  try {
    body = JSON.parse(text);
  } catch {
    problem(`${status} with a body that is not JSON: ${text.slice(0, 100)}`);
    return;
  }
  if (status >= 500) {
    problem(`${status}: ${text.slice(0, 300)}`);
    return;
  }
  const judged = judgeAnswer(verdict, status, body);
  if (judged.problem) {
    problem(judged.problem);
    return;
  }
  for (const a of judged.accepted) {
    accepted.set(a.event.event_id, { index: i, kind: c.kind, variant: c.variant, ...a });
  }
}

/** Compares one answer with the verdict; the events it accepted, with their ids as the api made them. */
export function judgeAnswer(
  verdict: HttpVerdict,
  status: number,
  body: {
    error?: { code?: unknown; message?: unknown; field?: unknown };
    results?: Array<Record<string, unknown>>;
  },
): { problem?: string; accepted: Array<{ event: UsageEvent; timeGiven: boolean }> } {
  const none = { accepted: [] };
  if (verdict.accept) {
    if (status !== 200)
      return {
        problem: `a valid body was answered ${status}: ${JSON.stringify(body).slice(0, 300)}`,
        ...none,
      };
    const results = body.results ?? [];
    if (results.length !== verdict.events.length || results.some((r) => r.status !== 'accepted')) {
      return { problem: `200 without every event accepted: ${JSON.stringify(body).slice(0, 300)}`, ...none };
    }
    return {
      accepted: verdict.events.map((event, k) => ({
        event: { ...event, event_id: verdict.idGiven[k] ? event.event_id : String(results[k]!.event_id) },
        timeGiven: verdict.timeGiven[k]!,
      })),
    };
  }
  if (status < 400 || status === 429) {
    return {
      problem: `the contract refuses this body (${verdict.level}) but it was answered ${status}`,
      ...none,
    };
  }
  if (verdict.level === 'body') {
    const e = body.error;
    if (status === 422 || typeof e?.code !== 'string' || typeof e.message !== 'string') {
      return {
        problem: `${status} without a typed error (expected ${verdict.reason}): ${JSON.stringify(body).slice(0, 300)}`,
        ...none,
      };
    }
    return none;
  }
  if (status !== 422 || !Array.isArray(body.results) || body.results.length !== verdict.fields.length) {
    return {
      problem: `expected 422 with one result per event, got ${status}: ${JSON.stringify(body).slice(0, 300)}`,
      ...none,
    };
  }
  const accepted: Array<{ event: UsageEvent; timeGiven: boolean }> = [];
  for (let k = 0; k < verdict.fields.length; k++) {
    const r = body.results[k]!;
    const field = verdict.fields[k];
    if (field === null) {
      if (r.status !== 'accepted')
        return { problem: `event ${k} is valid but was ${r.status}: ${r.error}`, accepted };
      const event = verdict.events[k]!;
      accepted.push({ event: { ...event, event_id: String(r.event_id) }, timeGiven: verdict.timeGiven[k]! });
      continue;
    }
    if (
      r.status !== 'rejected' ||
      typeof r.field !== 'string' ||
      r.field === '' ||
      typeof r.error !== 'string'
    ) {
      return {
        problem: `event ${k} must be rejected naming ${field}: ${JSON.stringify(r).slice(0, 300)}`,
        accepted,
      };
    }
    if (r.field !== field) {
      return {
        problem: `event ${k} was rejected naming ${r.field}, the contract names ${field}: ${r.error}`,
        accepted,
      };
    }
  }
  return { accepted };
}

async function judgeAccepted(
  target: FuzzTarget,
  accepted: Map<string, Accepted>,
  report: PathReport,
): Promise<void> {
  const ref = fuzzReference();
  const stored = new Map<string, Stored[]>();
  const add = (id: string, entry: Stored) => {
    if (accepted.has(id)) stored.set(id, [...(stored.get(id) ?? []), entry]);
  };
  for (const f of await storedFacts(target.clickhouse, target.database, target.topics.events)) {
    add(String(f.event_id), { fact: f });
  }
  for (const l of await storedLetters(target.clickhouse, target.database, [target.topics.events])) {
    let event: UsageEvent;
    try {
      event = decodeUsageEvent(Buffer.from(l.payload_base64, 'base64')).event;
    } catch {
      continue; // not one of the events the api wrote
    }
    add(event.event_id, { letter: l, event });
  }
  for (const [id, a] of accepted) {
    const problem = (text: string) =>
      fail(report, {
        path: 'http',
        index: a.index,
        kind: a.kind,
        variant: a.variant,
        problem: `${id}: ${text}`,
      });
    const found = stored.get(id) ?? [];
    if (found.length !== 1) {
      problem(found.length === 0 ? 'accepted but never stored' : `stored ${found.length} times`);
      continue;
    }
    const s = found[0]!;
    // What the api filled in (occurred_at = now when absent) is read back from what it wrote.
    const occurredAt = 'fact' in s ? Number(s.fact.occurred_at) : s.event.occurred_at;
    const event = a.timeGiven ? a.event : { ...a.event, occurred_at: occurredAt };
    const position =
      'fact' in s
        ? {
            partition: Number(s.fact.source_partition),
            offset: String(s.fact.source_offset),
            timestampMs: Number(s.fact.ingested_at),
          }
        : {
            partition: s.letter.source_partition,
            offset: String(s.letter.source_offset),
            timestampMs: Number(s.letter.received_at),
          };
    const want = expectedOutcome(
      { valid: true, event, schemaVersion: 2 },
      { topic: target.topics.events, ...position },
      ref,
    );
    if ('fact' in want) {
      if (!('fact' in s)) problem(`accepted but dead-lettered as ${s.letter.reason}: ${s.letter.message}`);
      else {
        const diff = factDifference(want.fact, s.fact);
        if (diff) problem(`the fact differs from what was accepted at ${diff}`);
      }
    } else if ('fact' in s) problem(`became a fact, but it must be dead-lettered as ${want.dead}`);
    else if (s.letter.reason !== want.dead)
      problem(`dead-lettered as ${s.letter.reason}, expected ${want.dead}`);
  }
}

type Stored = { fact: StoredFact } | { letter: StoredLetter; event: UsageEvent };
