import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { StackError } from './errors.js';
import { canConnect, hasCommand, tailFile, terminate, waitFor } from './process.js';

export interface LocalRedis {
  url: string;
  /** True when this process started redis-server (and so will stop it). */
  started: boolean;
  stop(): Promise<void>;
}

/** Sends PING over a raw socket; true on +PONG (or NOAUTH, which still proves a Redis is there). */
export function pingRedis(url: string, timeoutMs = 1_000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
    socket.once('error', () => done(false));
  });
}

/**
 * Uses the Redis at `url` when it answers; otherwise starts redis-server on `port` with an append-only
 * file and `noeviction` (BullMQ refuses to run on an evicting Redis).
 */
export async function ensureRedis(options: {
  url: string;
  dataDir: string;
  port: number;
}): Promise<LocalRedis> {
  if (await pingRedis(options.url)) return { url: options.url, started: false, stop: async () => {} };
  if (!hasCommand('redis-server', ['--version'])) {
    throw new StackError(
      'missing_redis',
      `No Redis answers at ${options.url} and redis-server is not installed: install it (apt-get install redis-server) or set REDIS_URL to a running Redis.`,
    );
  }
  const url = `redis://127.0.0.1:${options.port}`;
  if (await canConnect('127.0.0.1', options.port)) {
    throw new StackError(
      'port_in_use',
      `Port ${options.port} on 127.0.0.1 is taken by something that is not Redis, so redis-server cannot start there: free it or set REDIS_URL.`,
    );
  }
  mkdirSync(options.dataDir, { recursive: true });
  const logPath = join(options.dataDir, 'redis.log');
  const out = openSync(logPath, 'a');
  const child = spawn(
    'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(options.port),
      '--dir',
      options.dataDir,
      '--appendonly',
      'yes',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  const pid = child.pid ?? -1;
  await waitFor(
    () => pingRedis(url),
    15_000,
    () =>
      new StackError(
        'redis_not_ready',
        `redis-server did not answer on ${url} within 15 s.`,
        tailFile(logPath),
      ),
  );
  return { url, started: true, stop: () => terminate(pid, 10_000) };
}

/**
 * A redis-server of the caller's own on 127.0.0.1:`port`, without persistence (no RDB, no AOF) and
 * `noeviction`, so a test or chaos run can kill it and start it again empty without touching any
 * Redis someone else uses.
 */
export interface ScratchRedis {
  url: string;
  /** SIGKILL and start again on the same port: everything it held is gone. */
  restartEmpty(): Promise<void>;
  /** SIGKILL, keeping the port: clients see Redis unreachable until start(). */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startScratchRedis(port: number): Promise<ScratchRedis> {
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    // Anything already answering there is someone else's: never take it for ours (kill would miss it).
    if (await canConnect('127.0.0.1', port)) {
      throw new StackError(
        'port_in_use',
        `Port ${port} on 127.0.0.1 is already in use, so a scratch redis-server cannot start there: stop what holds it (ss -ltnp 'sport = :${port}').`,
      );
    }
    const c = spawn(
      'redis-server',
      [
        '--bind',
        '127.0.0.1',
        '--port',
        String(port),
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    child = c;
    let failure: Error | undefined;
    c.once('error', (error) => {
      failure = error;
    });
    const gone = () => failure !== undefined || c.exitCode !== null || c.signalCode !== null;
    try {
      await waitFor(
        async () => {
          if (gone()) throw failure ?? new Error(`redis-server exited with code ${c.exitCode}`);
          return pingRedis(url);
        },
        15_000,
        () => new StackError('redis_not_ready', `redis-server did not answer on ${url} within 15 s.`),
        100,
      );
    } catch (error) {
      c.kill('SIGKILL');
      throw error instanceof StackError
        ? error
        : new StackError(
            'redis_not_ready',
            `redis-server could not start on ${url}: ${(error as Error).message}`,
          );
    }
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  };
  await start();
  return {
    url,
    async restartEmpty() {
      await kill();
      await start();
    },
    kill,
    start,
    stop: kill,
  };
}
