import { enrichEvent } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { makeUsageEvent } from '../../../core/test/fixtures/usage-events.js';
import { type Expectation, judgeRecords, type Observation } from '../../src/fuzz/enricher-harness.js';
import { fuzzReference } from '../../src/fuzz/expected-reference.js';
import { judgeAnswer } from '../../src/fuzz/http-harness.js';
import { emptyReport } from '../../src/fuzz/report.js';

/**
 * Negative controls for the pipeline judges, without a pipeline: planted wrong outcomes — a missing
 * record, a fact stored twice, a wrong cost, a fact for an invalid input, a 5xx-free but wrong
 * answer — must each be reported.
 */
const ref = fuzzReference();
const event = makeUsageEvent({
  customer_ref: 'org_acme',
  model: 'gpt-4o-mini',
  occurred_at: Date.UTC(2026, 11, 4),
});
const fact = enrichEvent(event, ref, {
  topic: 't',
  partition: 0,
  offset: '0',
  ingestedAtMs: Date.UTC(2026, 11, 4),
});
const stored = (overrides: Record<string, unknown> = {}): Observation => ({
  fact: { ...fact, ...overrides } as unknown as Record<string, unknown>,
});
const valid: Expectation = {
  index: 0,
  kind: 'bit_flip',
  variant: 'in_string',
  valid: true,
  outcome: { fact },
};
const invalid: Expectation = {
  index: 1,
  kind: 'extreme_value',
  variant: 'tokens.input=-1',
  valid: false,
  outcome: { dead: 'invalid_value', field: 'tokens.input' },
};

function judge(expectation: Expectation, observations: Observation[]) {
  const report = emptyReport('enricher');
  judgeRecords(new Map([['0/0', expectation]]), new Map([['0/0', observations]]), report);
  return report.failures.map((f) => f.problem);
}

describe('the enricher judge', () => {
  it('passes the right fact and the right dead letter (the positive control)', () => {
    expect(judge(valid, [stored()])).toEqual([]);
    expect(judge(invalid, [{ dead: 'invalid_value', field: 'tokens.input', message: '' }])).toEqual([]);
  });

  it('reports a record stored nowhere, or twice', () => {
    expect(judge(valid, [])).toEqual(['0/0: no fact and no dead letter']);
    expect(judge(valid, [stored(), stored()])).toEqual(['0/0: stored 2 times']);
  });

  it('reports a fact whose cost or any other column is not what the pure enrichment computes', () => {
    expect(fact.cost_total_nanos).toBeGreaterThan(0);
    expect(judge(valid, [stored({ cost_total_nanos: fact.cost_total_nanos + 1 })])[0]).toMatch(
      /cost_total_nanos: stored \d+, expected \d+/,
    );
    expect(judge(valid, [stored({ depth: 0, tags: {} })])[0]).toMatch(/at depth/);
  });

  it('reports a fact for an invalid input, and a dead letter with another reason', () => {
    expect(judge(invalid, [stored()])[0]).toMatch(
      /became a fact, but it must be dead-lettered as invalid_value/,
    );
    expect(judge(invalid, [{ dead: 'undecodable', field: '', message: '' }])[0]).toMatch(
      /expected invalid_value/,
    );
    expect(judge(valid, [{ dead: 'sink_rejected', field: '', message: 'x' }])[0]).toMatch(
      /valid event was dead-lettered/,
    );
  });
});

describe('the HTTP judge', () => {
  const accept = { accept: true as const, events: [event], idGiven: [true], timeGiven: [true] };
  const rejectEvent = {
    accept: false as const,
    level: 'event' as const,
    fields: ['tokens.input'],
    events: [null],
    timeGiven: [true],
  };
  const rejectBody = { accept: false as const, level: 'body' as const, reason: 'invalid_json' };
  const results = (status: string, field?: string) => ({
    results: [{ index: 0, event_id: event.event_id, status, ...(field ? { field, error: 'bad' } : {}) }],
  });

  it('passes the answers the contract asks for (the positive control)', () => {
    expect(judgeAnswer(accept, 200, results('accepted')).problem).toBeUndefined();
    expect(judgeAnswer(rejectEvent, 422, results('rejected', 'tokens.input')).problem).toBeUndefined();
    expect(
      judgeAnswer(rejectBody, 400, { error: { code: 'invalid_json', message: 'x' } }).problem,
    ).toBeUndefined();
  });

  it('reports a valid event refused, an invalid one accepted, a wrong field and an untyped error', () => {
    expect(judgeAnswer(accept, 422, results('rejected', 'event')).problem).toMatch(
      /valid body was answered 422/,
    );
    expect(judgeAnswer(rejectEvent, 200, results('accepted')).problem).toMatch(/answered 200/);
    expect(judgeAnswer(rejectEvent, 422, results('rejected', 'tokens')).problem).toMatch(
      /naming tokens, the contract names tokens.input/,
    );
    expect(judgeAnswer(rejectBody, 400, { results: [] }).problem).toMatch(/without a typed error/);
    expect(judgeAnswer(rejectBody, 429, { error: { code: 'rate_limited', message: 'x' } }).problem).toMatch(
      /429/,
    );
  });
});
