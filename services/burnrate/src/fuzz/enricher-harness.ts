import type { Message } from 'kafkajs';
import { avroCase, type FuzzPlan } from './cases.js';
import { fuzzReference } from './expected-reference.js';
import { factDifference, rejectedPosition, type StoredFact, storedFacts, storedLetters } from './facts.js';
import { classifyAvro, expectedOutcome, type Outcome } from './oracle.js';
import { waitForPipeline } from './pipeline-wait.js';
import { count, emptyReport, fail, type PathReport } from './report.js';
import type { FuzzTarget } from './target.js';

export interface EnricherFuzzOptions {
  plan: FuzzPlan;
  cases: number;
  /** How long to wait for the pipeline to account for every record. Default 60 s + 10 ms per case. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface Expectation {
  index: number;
  kind: string;
  variant: string;
  valid: boolean;
  outcome: Outcome;
}

const PARTITIONS = 4;
const MAX_SEND_BYTES = 800_000;
const CHUNK_CASES = 2_000;

/**
 * Path 2: mutated records on `usage.events` through the real enricher process to ClickHouse. Each
 * record's fate is computed beforehand from the pure domain (decode, validate, timeliness,
 * enrichEvent with the same reference data); afterwards every input offset must be stored exactly
 * once, as that fact (every column equal) or a dead letter with that reason, and the process must
 * still be alive and ready.
 */
export async function runEnricherFuzz(target: FuzzTarget, o: EnricherFuzzOptions): Promise<PathReport> {
  const started = performance.now();
  const report = emptyReport('enricher');
  const ref = fuzzReference();
  const expected = new Map<string, Expectation>();
  const ends = new Array<bigint>(PARTITIONS).fill(0n);
  const producer = target.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let from = 0; from < o.cases; from += CHUNK_CASES) {
      const byPartition: Array<Array<{ message: Message; c: ReturnType<typeof avroCase> }>> = Array.from(
        { length: PARTITIONS },
        () => [],
      );
      for (let i = from; i < Math.min(o.cases, from + CHUNK_CASES); i++) {
        const c = avroCase(o.plan, 'enricher', i);
        byPartition[i % PARTITIONS]!.push({
          c,
          message: { key: c.base.customer_ref, value: c.bytes, timestamp: String(o.plan.nowMs) },
        });
      }
      for (let partition = 0; partition < PARTITIONS; partition++) {
        for (const batch of batches(byPartition[partition]!)) {
          const [meta] = await producer.send({
            topic: target.topics.events,
            acks: -1,
            messages: batch.map((b) => ({ ...b.message, partition })),
          });
          const base = BigInt(meta!.baseOffset!);
          // burnrate's topics stamp records with the broker's clock (LogAppendTime): that is the
          // ingestion time the enricher judges lateness by, the same for the whole batch.
          const appended = Number(meta!.logAppendTime ?? '-1');
          const timestampMs = appended > 0 ? appended : o.plan.nowMs;
          batch.forEach(({ c }, j) => {
            const offset = (base + BigInt(j)).toString();
            const verdict = classifyAvro(c.bytes);
            const outcome = expectedOutcome(
              verdict,
              { topic: target.topics.events, partition, offset, timestampMs },
              ref,
            );
            expected.set(`${partition}/${offset}`, {
              index: c.index,
              kind: c.kind,
              variant: c.variant,
              valid: verdict.valid,
              outcome,
            });
          });
          ends[partition] = base + BigInt(batch.length);
        }
      }
    }
  } finally {
    await producer.disconnect();
  }
  o.log?.(`enricher: ${o.cases} records produced; waiting for the pipeline`);

  const waited = await waitForPipeline(target, ends, o.cases, o.timeoutMs ?? 60_000 + 10 * o.cases);
  if (waited) fail(report, { path: 'enricher', index: -1, kind: '(run)', variant: '', problem: waited });

  await judge(target, expected, report);
  const health = await target.health();
  if (!health.alive || !health.ready) {
    report.crashes++;
    fail(report, {
      path: 'enricher',
      index: -1,
      kind: '(process)',
      variant: '',
      problem: `the burnrate process is ${health.alive ? 'not ready' : 'gone'}: ${health.detail}\n${target.output().slice(-2_000)}`,
    });
  }
  report.durationMs = performance.now() - started;
  return report;
}

function* batches<T extends { message: Message }>(items: T[]): Generator<T[]> {
  let batch: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = (item.message.value as Buffer).length + 64;
    if (batch.length > 0 && bytes + size > MAX_SEND_BYTES) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

async function judge(
  target: FuzzTarget,
  expected: Map<string, Expectation>,
  report: PathReport,
): Promise<void> {
  const facts = await storedFacts(target.clickhouse, target.database, target.topics.events);
  const letters = await storedLetters(target.clickhouse, target.database, [
    target.topics.events,
    target.topics.enriched,
  ]);
  const seen = new Map<string, Observation[]>();
  const add = (key: string, v: Observation) => seen.set(key, [...(seen.get(key) ?? []), v]);
  for (const f of facts) add(`${f.source_partition}/${f.source_offset}`, { fact: f });
  for (const l of letters) {
    if (l.source_topic === target.topics.events) {
      add(`${l.source_partition}/${l.source_offset}`, { dead: l.reason, field: l.field, message: l.message });
    } else {
      const at = rejectedPosition(l);
      if (at) add(`${at.partition}/${at.offset}`, { dead: l.reason, field: l.field, message: l.message });
    }
  }
  judgeRecords(expected, seen, report);
}

/** What ClickHouse holds for one input record. */
export type Observation = { fact: StoredFact } | { dead: string; field: string; message: string };

/**
 * Pure: every expected record (keyed `partition/offset`) against what was stored for it — exactly
 * one entry, the expected fact with every column equal, or a dead letter with the expected reason.
 */
export function judgeRecords(
  expected: Map<string, Expectation>,
  seen: Map<string, Observation[]>,
  report: PathReport,
): void {
  // An event_id valid in several records is one fact; the others are duplicates (none by design).
  const factsPerId = new Map<string, number>();
  for (const e of expected.values()) {
    if ('fact' in e.outcome)
      factsPerId.set(e.outcome.fact.event_id, (factsPerId.get(e.outcome.fact.event_id) ?? 0) + 1);
  }

  for (const [key, e] of expected) {
    const got = seen.get(key) ?? [];
    const problem = (text: string) =>
      fail(report, {
        path: 'enricher',
        index: e.index,
        kind: e.kind,
        variant: e.variant,
        problem: `${key}: ${text}`,
      });
    const observed = got[0];
    count(
      report,
      e.kind,
      !observed ? 'missing' : 'fact' in observed ? 'fact' : `dead:${observed.dead}`,
      e.valid,
    );
    if (got.length !== 1) {
      problem(got.length === 0 ? 'no fact and no dead letter' : `stored ${got.length} times`);
      continue;
    }
    const want = e.outcome;
    if ('dead' in want && want.dead === 'untyped') {
      problem('the decoder threw an untyped error for it');
      continue;
    }
    if ('fact' in want) {
      if (
        (factsPerId.get(want.fact.event_id) ?? 0) > 1 &&
        'dead' in observed! &&
        observed.dead === 'duplicate_event_id'
      ) {
        continue;
      }
      if (!('fact' in observed!)) {
        problem(
          `a valid event was dead-lettered as ${observed!.dead} (${observed!.field}): ${observed!.message}`,
        );
        continue;
      }
      const diff = factDifference(want.fact, observed.fact);
      if (diff) problem(`the fact differs from the pure enrichment at ${diff}`);
      continue;
    }
    if ('fact' in observed!) {
      problem(`became a fact, but it must be dead-lettered as ${want.dead} (${want.field})`);
      continue;
    }
    if (observed!.dead !== want.dead || (want.field && observed!.field !== want.field)) {
      problem(
        `dead-lettered as ${observed!.dead} (${observed!.field}), expected ${want.dead} (${want.field})`,
      );
    }
  }
}
