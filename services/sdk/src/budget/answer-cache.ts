interface Entry<V> {
  /** Settled value, or undefined while the request is in flight. */
  value?: V;
  /** The request in flight; identical calls share it. */
  pending?: Promise<V>;
  /** When a settled value stops being served (ms since the epoch, from `now`). */
  expiresAt: number;
}

/**
 * A short-lived cache of answers by key, where concurrent calls for one key share one request and
 * a failed request leaves nothing behind (the next call asks again). Entries are kept in the
 * order they expire — all live for the same `ttlMs` — so expired ones are swept from the front,
 * which keeps the map as small as the keys asked for within `ttlMs` (one per run in an agent fleet).
 */
export class AnswerCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(ttlMs: number, now: () => number = Date.now) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** The cached value for `key` while fresh; otherwise the in-flight request, or a new `load()`. */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = this.#now();
    this.#sweep(now);
    const entry = this.#entries.get(key);
    if (entry?.pending) return entry.pending;
    if (entry && entry.expiresAt > now) return Promise.resolve(entry.value as V);
    const pending = load().then(
      (value) => {
        this.#entries.delete(key);
        if (this.#ttlMs > 0) this.#entries.set(key, { value, expiresAt: this.#now() + this.#ttlMs });
        return value;
      },
      (error: unknown) => {
        this.#entries.delete(key);
        throw error;
      },
    );
    // Re-inserting moves the key to the end: the map stays in expiry order.
    this.#entries.delete(key);
    this.#entries.set(key, { pending, expiresAt: Number.POSITIVE_INFINITY });
    return pending;
  }

  /** Keys held (fresh, expired-but-not-yet-swept, or in flight); for tests. */
  get size(): number {
    return this.#entries.size;
  }

  #sweep(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (entry.pending || entry.expiresAt > now) return;
      this.#entries.delete(key);
    }
  }
}
