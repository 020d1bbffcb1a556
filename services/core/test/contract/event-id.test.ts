import { createEventIdGenerator, newEventId } from '@burnrate/core';
import { describe, expect, it } from 'vitest';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function timestampOf(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

function counterOf(id: string): number {
  return Number.parseInt(id.slice(15, 18), 16);
}

describe('event ids (UUIDv7)', () => {
  it('has version 7, the RFC variant and the current time in ms', () => {
    const before = Date.now();
    const id = newEventId();
    const after = Date.now();
    expect(id).toMatch(UUID_V7);
    expect(timestampOf(id)).toBeGreaterThanOrEqual(before);
    expect(timestampOf(id)).toBeLessThanOrEqual(after);
  });

  it('encodes a 48-bit timestamp exactly', () => {
    const ms = 0xfedcba987654;
    const id = createEventIdGenerator({ nowMs: () => ms })();
    expect(id.slice(0, 13)).toBe('fedcba98-7654');
  });

  it('is unique and sorts in creation order within one millisecond', () => {
    const next = createEventIdGenerator({ nowMs: () => 1_767_225_600_000 });
    const ids = Array.from({ length: 2000 }, () => next());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(ids.every((id) => UUID_V7.test(id))).toBe(true);
  });

  it('keeps the order when the clock steps back', () => {
    let now = 1_767_225_600_500;
    const next = createEventIdGenerator({ nowMs: () => now });
    const first = next();
    now -= 400;
    const second = next();
    expect(second > first).toBe(true);
    expect(timestampOf(second)).toBe(timestampOf(first));
  });

  it('borrows the next millisecond when the counter runs out', () => {
    const ms = 1_767_225_600_000;
    const next = createEventIdGenerator({ nowMs: () => ms, randomFill: (b) => b.fill(0xff) });
    const ids = Array.from({ length: 2050 }, () => next());
    // Seeded at 0x7ff, the counter reaches 0xfff after 2048 ids; the next id moves to ms + 1.
    expect(counterOf(ids[0]!)).toBe(0x7ff);
    expect(counterOf(ids[2048]!)).toBe(0xfff);
    expect(timestampOf(ids[2049]!)).toBe(ms + 1);
    expect([...ids].sort()).toEqual(ids);
  });

  it('fetches randomness in batches, not per id', () => {
    let calls = 0;
    const next = createEventIdGenerator({
      randomFill: (bytes) => {
        calls++;
        bytes.fill(calls);
      },
    });
    for (let i = 0; i < 1000; i++) next();
    expect(calls).toBe(2);
  });
});
