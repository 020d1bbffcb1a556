import { randomUUID } from 'node:crypto';
import { isRetriable } from '@burnrate/core';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Component } from '../runtime/lifecycle.js';
import { backoffMs, sleep, ThrottledLog } from '../runtime/retry.js';

export interface OutboxEntry {
  /** The stream entry id. */
  id: string;
  fields: Record<string, string>;
}

export interface OutboxRelayConfig {
  /** The Redis stream written atomically with the state change it records. */
  stream: string;
  /** Consumer group shared by every relay of this stream (each instance is one consumer). */
  group: string;
  /** Entries handed to `handle` at once. */
  batchSize?: number;
  /** How long a read waits for new entries. */
  blockMs?: number;
  /** Entries a dead instance read but never acknowledged are taken over after this long. */
  claimIdleMs?: number;
  retryLogIntervalMs?: number;
  name: string;
}

export interface OutboxRelayDeps {
  /** Used to make a dedicated connection: blocking reads must not hold up other commands. */
  redis: Redis;
  /**
   * Delivers a batch to wherever it goes next (ClickHouse, a queue). Must be idempotent: after a
   * crash between `handle` and the acknowledgement, the same entries are handed over again.
   */
  handle(entries: OutboxEntry[]): Promise<void>;
  logger: Logger;
}

/**
 * Moves entries from a Redis stream (an outbox) to their next home, at least once, in order per
 * instance, and deletes them once handled. Unacknowledged entries of a crashed instance are claimed
 * by another after `claimIdleMs`; a failing `handle` keeps its entries and retries with backoff.
 */
export function createOutboxRelay(o: OutboxRelayConfig, deps: OutboxRelayDeps): Component {
  const log = deps.logger.child({ component: o.name });
  const consumer = `${o.name}-${randomUUID().slice(0, 8)}`;
  const batchSize = o.batchSize ?? 200;
  const failing = new ThrottledLog(log, o.retryLogIntervalMs ?? 10_000);
  let conn: Redis | undefined;
  let running = false;
  let loop: Promise<void> | undefined;

  async function ensureGroup(r: Redis): Promise<void> {
    try {
      await r.xgroup('CREATE', o.stream, o.group, '0', 'MKSTREAM');
    } catch (error) {
      // BUSYGROUP: it exists already (Redis reports this only as the reply's leading code word).
      if (!String((error as Error).message).startsWith('BUSYGROUP')) throw error;
    }
  }

  async function next(r: Redis): Promise<OutboxEntry[]> {
    // Ours first (a handle that failed), then a dead instance's, then new ones.
    const own = parse(
      await r.xreadgroup('GROUP', o.group, consumer, 'COUNT', batchSize, 'STREAMS', o.stream, '0'),
    );
    if (own.length > 0) return own;
    const claimed = (await r.xautoclaim(
      o.stream,
      o.group,
      consumer,
      o.claimIdleMs ?? 30_000,
      '0-0',
      'COUNT',
      batchSize,
    )) as [string, Array<[string, string[]] | null>];
    const stolen = entriesOf(claimed[1]);
    if (stolen.length > 0) return stolen;
    return parse(
      await r.xreadgroup(
        'GROUP',
        o.group,
        consumer,
        'COUNT',
        batchSize,
        'BLOCK',
        o.blockMs ?? 1_000,
        'STREAMS',
        o.stream,
        '>',
      ),
    );
  }

  /**
   * Hands the batch over; if it is refused for good (a malformed entry, not an outage), entry by
   * entry, so one bad entry cannot block the ones behind it: a refused entry is logged with its
   * content at error level and acknowledged. Returns the ids that are done.
   */
  async function handleIsolating(entries: OutboxEntry[]): Promise<string[]> {
    try {
      await deps.handle(entries);
      return entries.map((e) => e.id);
    } catch (error) {
      if (isRetriable(error)) throw error;
      if (entries.length === 1) {
        log.error(
          { err: error, entry: entries[0] },
          `${o.name} cannot relay this entry for good; it leaves the outbox (its content is in this line)`,
        );
        return [entries[0]!.id];
      }
      const done: string[] = [];
      for (const entry of entries) done.push(...(await handleIsolating([entry])));
      return done;
    }
  }

  async function run(r: Redis): Promise<void> {
    for (let attempt = 0; running; ) {
      try {
        const entries = await next(r);
        if (entries.length > 0) {
          const done = await handleIsolating(entries);
          await r
            .multi()
            .xack(o.stream, o.group, ...done)
            .xdel(o.stream, ...done)
            .exec();
        }
        attempt = 0;
        failing.recovered(`${o.name} is relaying again`);
      } catch (error) {
        if (!running) return;
        if (String((error as Error).message).startsWith('NOGROUP')) {
          // Redis lost the stream and its group (FLUSHALL, a restart without persistence).
          await ensureGroup(r).catch(() => {});
          continue;
        }
        failing.warn(
          { err: error },
          `${o.name} cannot relay; its entries stay in the outbox and are retried`,
        );
        await sleep(backoffMs(attempt++, 200, 5_000));
      }
    }
  }

  return {
    name: o.name,
    async start() {
      running = true;
      conn = deps.redis.duplicate({ lazyConnect: true, maxRetriesPerRequest: null });
      await conn.connect();
      await ensureGroup(conn);
      // stop() may have come while connecting: then there is nothing to start.
      if (!running) return;
      loop = run(conn);
      log.info({ stream: o.stream, consumer }, 'relay started');
    },
    async stop() {
      running = false;
      // Ends a blocking read at once; the loop sees `running` and returns.
      conn?.disconnect();
      await loop;
    },
  };
}

type StreamReply = Array<[string, Array<[string, string[]]>]> | null;

function parse(reply: unknown): OutboxEntry[] {
  const streams = reply as StreamReply;
  return streams ? entriesOf(streams[0]?.[1] ?? []) : [];
}

function entriesOf(list: Array<[string, string[]] | null>): OutboxEntry[] {
  const out: OutboxEntry[] = [];
  for (const item of list) {
    // XAUTOCLAIM returns null for entries deleted meanwhile.
    if (!item) continue;
    const [id, flat] = item;
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    out.push({ id, fields });
  }
  return out;
}
