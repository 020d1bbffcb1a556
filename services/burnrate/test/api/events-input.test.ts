import { ValidationError } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { checkEventShape, parseEventsBody } from '../../src/roles/api/events-input.js';
import { HttpError } from '../../src/roles/api/http.js';
import { createRateLimiter } from '../../src/roles/api/rate-limit.js';

const fieldOf = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    return error instanceof ValidationError ? error.field : `not a ValidationError: ${error}`;
  }
  return 'no error';
};

describe('the POST /v1/events body', () => {
  it('takes one object, an array, or NDJSON with a bad line rejected alone', () => {
    expect(parseEventsBody('{"a":1}', 'json')).toEqual([{ value: { a: 1 } }]);
    expect(parseEventsBody('[{"a":1},{"a":2}]', 'json')).toHaveLength(2);
    const nd = parseEventsBody('{"a":1}\n{oops\n{"a":3}\n', 'ndjson');
    expect(nd).toHaveLength(3);
    expect('error' in nd[1]! && nd[1].error.message).toMatch(/^Line 2 is not one JSON object/);
  });

  it('refuses invalid JSON; deep nesting parses (V8 parses iteratively) and fails as an event', () => {
    expect(() => parseEventsBody('{"a":', 'json')).toThrow(HttpError);
    const deep = parseEventsBody(`${'['.repeat(200_000)}${']'.repeat(200_000)}`, 'json');
    expect(fieldOf(() => checkEventShape((deep[0] as { value: unknown }).value))).toBe('event');
    const nested = parseEventsBody(`{"tags":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`, 'json');
    expect(fieldOf(() => checkEventShape((nested[0] as { value: unknown }).value))).toBe('no error');
    // …the shape is an object; the values are buildEvent's to judge (tags.a must be a string).
  });

  it('refuses unknown fields, at the top and inside tokens and units, naming them', () => {
    expect(fieldOf(() => checkEventShape({ customer_id: 'x' }))).toBe('customer_id');
    expect(fieldOf(() => checkEventShape({ tokens: { prompt: 1 } }))).toBe('tokens.prompt');
    expect(fieldOf(() => checkEventShape({ units: { seconds: 1 } }))).toBe('units.seconds');
    expect(fieldOf(() => checkEventShape({ tokens: 'lots' }))).toBe('tokens');
    expect(fieldOf(() => checkEventShape({ tags: [] }))).toBe('tags');
    expect(fieldOf(() => checkEventShape([]))).toBe('event');
    // Found by the fuzz: an empty name was answered as field "", which names nothing.
    expect(fieldOf(() => checkEventShape({ '': 1 }))).toBe('event');
    expect(fieldOf(() => checkEventShape('x'))).toBe('event');
  });

  it('converts an ISO-8601 occurred_at with a zone and refuses one without', () => {
    expect(checkEventShape({ occurred_at: '2026-12-04T10:00:00.250Z' }).occurred_at).toBe(
      Date.UTC(2026, 11, 4, 10, 0, 0, 250),
    );
    expect(checkEventShape({ occurred_at: '2026-12-04T11:00:00+01:00' }).occurred_at).toBe(
      Date.UTC(2026, 11, 4, 10),
    );
    expect(fieldOf(() => checkEventShape({ occurred_at: '2026-12-04 10:00' }))).toBe('occurred_at');
    expect(fieldOf(() => checkEventShape({ occurred_at: 'yesterday' }))).toBe('occurred_at');
  });
});

describe('error answers', () => {
  it('carry what a retry needs beside the error (the event_ids of a 503)', () => {
    const e = new HttpError(503, 'kafka_unavailable', 'Kafka did not acknowledge.', undefined, 1, {
      event_ids: ['a', 'b'],
    });
    expect(e.body()).toEqual({
      error: { code: 'kafka_unavailable', message: 'Kafka did not acknowledge.' },
      event_ids: ['a', 'b'],
    });
  });
});

describe('the per-key rate limit', () => {
  it('lets a second of events through, then asks to wait, and refills', () => {
    let now = 0;
    const limit = createRateLimiter(100, 50, () => now);
    expect(limit.take('k', 60).ok).toBe(true);
    expect(limit.take('k', 40).ok).toBe(true);
    expect(limit.take('k', 1)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(limit.take('other', 100).ok).toBe(true);
    now = 500;
    expect(limit.take('k', 50).ok).toBe(true);
    expect(limit.take('k', 1).ok).toBe(false);
  });

  it('lets the largest batch through even when the rate is lower, and 0 turns it off', () => {
    expect(createRateLimiter(10, 1000, () => 0).take('k', 1000).ok).toBe(true);
    const off = createRateLimiter(0, 1);
    for (let i = 0; i < 10; i++) expect(off.take('k', 1_000_000).ok).toBe(true);
  });
});
