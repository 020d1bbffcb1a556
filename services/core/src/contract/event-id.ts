import { randomFillSync } from 'node:crypto';

export interface EventIdGeneratorOptions {
  /** Clock in epoch milliseconds; Date.now by default. Tests pass a fixed one. */
  nowMs?: () => number;
  /** Fills a buffer with cryptographically random bytes; crypto.randomFillSync by default. */
  randomFill?: (bytes: Uint8Array) => void;
}

/** Bytes of randomness fetched per call to the random source: 512 ids' worth. */
const RANDOM_POOL_BYTES = 512 * 10;
// rand_a is a 12-bit counter seeded below 2^11 at each new millisecond, so at least 2048 ids fit
// in one millisecond before the counter runs out (RFC 9562 §6.2, counter rollover guard).
const COUNTER_SEED_MASK = 0x7ff;
const COUNTER_MAX = 0xfff;

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * Makes UUIDv7 strings (RFC 9562): 48-bit Unix time in ms, version 7, a 12-bit counter in rand_a,
 * the variant, and 62 random bits. Ids from one generator sort in creation order, also within a
 * millisecond and when the clock steps back (the last timestamp is kept until the clock passes it).
 */
export function createEventIdGenerator(options: EventIdGeneratorOptions = {}): () => string {
  const nowMs = options.nowMs ?? Date.now;
  const randomFill = options.randomFill ?? randomFillSync;
  const pool = new Uint8Array(RANDOM_POOL_BYTES);
  let poolPos = RANDOM_POOL_BYTES;
  let lastMs = -1;
  let counter = 0;

  return function newEventId(): string {
    if (poolPos + 10 > RANDOM_POOL_BYTES) {
      randomFill(pool);
      poolPos = 0;
    }
    const r = poolPos;
    poolPos += 10;

    let ms = nowMs();
    if (ms > lastMs) {
      lastMs = ms;
      counter = ((pool[r]! << 8) | pool[r + 1]!) & COUNTER_SEED_MASK;
    } else if (counter < COUNTER_MAX) {
      ms = lastMs;
      counter++;
    } else {
      // Counter exhausted: borrow the next millisecond rather than break the order.
      ms = ++lastMs;
      counter = ((pool[r]! << 8) | pool[r + 1]!) & COUNTER_SEED_MASK;
    }

    // 48-bit timestamp: the high 16 bits and low 32 bits, since bit operators work on 32 bits.
    const high = Math.floor(ms / 0x100000000);
    const low = ms >>> 0;
    return (
      HEX[(high >>> 8) & 0xff]! +
      HEX[high & 0xff]! +
      HEX[low >>> 24]! +
      HEX[(low >>> 16) & 0xff]! +
      '-' +
      HEX[(low >>> 8) & 0xff]! +
      HEX[low & 0xff]! +
      '-' +
      HEX[0x70 | (counter >>> 8)]! +
      HEX[counter & 0xff]! +
      '-' +
      HEX[0x80 | (pool[r + 2]! & 0x3f)]! +
      HEX[pool[r + 3]!]! +
      '-' +
      HEX[pool[r + 4]!]! +
      HEX[pool[r + 5]!]! +
      HEX[pool[r + 6]!]! +
      HEX[pool[r + 7]!]! +
      HEX[pool[r + 8]!]! +
      HEX[pool[r + 9]!]!
    );
  };
}

let defaultGenerator: (() => string) | undefined;

/**
 * A new UUIDv7 for event_id: made once per event by the client and reused on every resend, since
 * it is the idempotency key downstream. Ids from one process sort in creation order.
 */
export function newEventId(): string {
  defaultGenerator ??= createEventIdGenerator();
  return defaultGenerator();
}
