import type { Session } from 'chdb';
import { ClickHouseException, CODES } from './errors.js';

/**
 * ClickHouse HTTP sessions (`session_id`): one long-lived chDB session per (user, id), so SET, USE
 * and temporary tables carry from one request to the next. A chDB Session is its own engine
 * connection with its own context on the shared data directory; a temporary table made on one is
 * invisible to every other, so no emulation is needed.
 */
export interface SessionOptions {
  /** Seconds a session lives after its last request when the request names no session_timeout (ClickHouse: 60). */
  defaultTimeoutSeconds: number;
  /** The largest session_timeout accepted (ClickHouse's max_session_timeout: 3600). */
  maxTimeoutSeconds: number;
  /** Sessions open at once; a new one beyond this is refused. Each holds an engine connection. */
  maxSessions: number;
  /**
   * Sessions one user may hold at once (default: half of maxSessions, at least 1), so one user — the
   * analyst, whose default password is allowed on loopback — cannot take every session.
   */
  maxSessionsPerUser?: number;
  /** The largest session_timeout a read-only user gets (default 300 s); longer ones are refused. */
  maxReadonlyTimeoutSeconds?: number;
}

export interface SessionLease {
  readonly session: Session;
  /**
   * True until a request has set the session up (defaults, database, readonly): the request that
   * opened it, or the next one if that one failed before getting so far (a body too large…).
   */
  readonly fresh: boolean;
  /** The session is set up; later requests change only what they name. */
  markReady(): void;
  /** Ends the request's hold; the session expires `timeout` seconds later unless used again. */
  release(): void;
  /** Closes the session now: for one whose first request could not set it up. */
  discard(): void;
}

export interface SessionRequest {
  user: string;
  id: string;
  /** session_timeout in seconds, as sent; undefined for the default. */
  timeout: string | undefined;
  /** session_check=1: the session must exist already. */
  check: boolean;
  /** The user is read-only: the shorter maxReadonlyTimeoutSeconds applies. */
  readonly?: boolean;
}

export interface Sessions {
  acquire(request: SessionRequest): SessionLease;
  readonly size: number;
  closeAll(): void;
}

interface Entry {
  user: string;
  session: Session;
  busy: boolean;
  ready: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** Printable ASCII without spaces; clients send UUIDs. */
const SESSION_ID = /^[\x21-\x7e]{1,256}$/;

export function createSessions(open: () => Session, options: SessionOptions): Sessions {
  const entries = new Map<string, Entry>();
  const perUser = new Map<string, number>();
  const userCap = options.maxSessionsPerUser ?? Math.max(1, Math.floor(options.maxSessions / 2));
  const readonlyMax = Math.min(options.maxTimeoutSeconds, options.maxReadonlyTimeoutSeconds ?? 300);

  const expire = (key: string, entry: Entry) => {
    if (entries.get(key) !== entry || entry.busy) return;
    entries.delete(key);
    const left = (perUser.get(entry.user) ?? 1) - 1;
    if (left > 0) perUser.set(entry.user, left);
    else perUser.delete(entry.user);
    entry.session.close();
  };

  return {
    get size() {
      return entries.size;
    },
    acquire(request) {
      if (!SESSION_ID.test(request.id)) {
        throw new ClickHouseException(
          CODES.BAD_ARGUMENTS,
          'session_id must be 1 to 256 printable ASCII characters without spaces',
        );
      }
      const timeoutSeconds = parseTimeout(
        request.timeout,
        request.readonly
          ? {
              defaultTimeoutSeconds: Math.min(options.defaultTimeoutSeconds, readonlyMax),
              maxTimeoutSeconds: readonlyMax,
            }
          : options,
      );
      // sessions are per user, as on a server: another user's id names another session
      const key = `${request.user}\u0000${request.id}`;
      let entry = entries.get(key);
      if (entry?.busy) {
        throw new ClickHouseException(
          CODES.SESSION_IS_LOCKED,
          `Session ${request.id} is locked by a concurrent client`,
        );
      }
      if (!entry) {
        if (request.check) {
          throw new ClickHouseException(CODES.SESSION_NOT_FOUND, `Session ${request.id} not found`);
        }
        if (entries.size >= options.maxSessions) {
          throw new ClickHouseException(
            CODES.TOO_MANY_SIMULTANEOUS_QUERIES,
            `Too many sessions: ${entries.size} are open (maxSessions); close one or wait for one to expire`,
            { retriable: true },
          );
        }
        const held = perUser.get(request.user) ?? 0;
        if (held >= userCap) {
          throw new ClickHouseException(
            CODES.TOO_MANY_SIMULTANEOUS_QUERIES,
            `Too many sessions for user ${request.user}: ${held} are open (at most ${userCap} per user); close one or wait for one to expire`,
            { retriable: true },
          );
        }
        entry = { user: request.user, session: open(), busy: false, ready: false, timer: undefined };
        entries.set(key, entry);
        perUser.set(request.user, held + 1);
      }
      const held = entry;
      held.busy = true;
      clearTimeout(held.timer);
      let released = false;
      return {
        session: held.session,
        fresh: !held.ready,
        markReady() {
          held.ready = true;
        },
        release() {
          if (released) return;
          released = true;
          held.busy = false;
          held.timer = setTimeout(() => expire(key, held), timeoutSeconds * 1000);
          held.timer.unref();
        },
        discard() {
          if (released) return;
          released = true;
          held.busy = false;
          expire(key, held);
        },
      };
    },
    closeAll() {
      for (const entry of entries.values()) {
        clearTimeout(entry.timer);
        entry.session.close();
      }
      entries.clear();
      perUser.clear();
    },
  };
}

function parseTimeout(
  value: string | undefined,
  options: Pick<SessionOptions, 'defaultTimeoutSeconds' | 'maxTimeoutSeconds'>,
): number {
  if (value === undefined || value === '') return options.defaultTimeoutSeconds;
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(seconds)) {
    throw new ClickHouseException(
      CODES.INVALID_SESSION_TIMEOUT,
      `Invalid session timeout: '${value}' (whole seconds expected)`,
    );
  }
  if (seconds > options.maxTimeoutSeconds) {
    throw new ClickHouseException(
      CODES.INVALID_SESSION_TIMEOUT,
      `Session timeout ${seconds} is larger than max_session_timeout: ${options.maxTimeoutSeconds}`,
    );
  }
  return seconds;
}
