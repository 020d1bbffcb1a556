import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

/** One exit of a role process, deliberate (we signalled it) or not. */
export interface RoleExit {
  atMs: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the chaos run caused it (a kill), false when the process ended by itself. */
  deliberate: boolean;
}

export interface RoleProcess {
  /** e.g. `ledger-2` */
  name: string;
  pid(): number | undefined;
  /** Times the process was spawned (1 + restarts). */
  starts(): number;
  exits(): RoleExit[];
  /** Resolves once the current incarnation logged that it is running. */
  ready(timeoutMs?: number): Promise<void>;
  /** True while the current incarnation is running (logged so, not frozen, not exited). */
  isRunning(): boolean;
  /** SIGKILL; the supervisor starts it again after `restartDelayMs`. Resolves once it has exited. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: freeze and thaw the process (a zombie in the making). */
  freeze(): void;
  thaw(): void;
  /** SIGTERM without restart; resolves once it has exited. */
  stop(): Promise<void>;
  /** Everything it printed, all incarnations. */
  logPath: string;
}

export interface RoleProcessOptions {
  name: string;
  /** The repository root: `burnrate run` is started from there. */
  rootDir: string;
  env: Record<string, string>;
  logPath: string;
  /** Wait before starting a process again after it exited (an orchestrator's restart delay). */
  restartDelayMs?: number;
}

/**
 * Role processes alive now: SIGKILLed when this process exits or is told to stop by a signal (a
 * test runner ends its workers with SIGTERM, and Node emits no 'exit' then), so none is orphaned.
 */
const live = new Set<ChildProcess>();
let reaperInstalled = false;
function track(c: ChildProcess) {
  if (!reaperInstalled) {
    reaperInstalled = true;
    const killAll = () => {
      for (const child of live) child.kill('SIGKILL');
    };
    process.once('exit', killAll);
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      // Where the process handles the signal itself (the chaos command stops its cluster), that goes
      // on; otherwise the signal then does what it would have done without this handler: end it.
      const handledElsewhere = process.listenerCount(signal) > 0;
      process.once(signal, () => {
        killAll();
        if (!handledElsewhere && process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    }
  }
  live.add(c);
  c.once('exit', () => live.delete(c));
}

/**
 * Runs `burnrate run` as its own OS process and supervises it like an orchestrator would: whenever
 * it exits — killed by the chaos run or ended by itself (a fatal error, exit code 1) — it is started
 * again, until stop().
 */
export function startRoleProcess(o: RoleProcessOptions): RoleProcess {
  mkdirSync(dirname(o.logPath), { recursive: true });
  const log: WriteStream = createWriteStream(o.logPath, { flags: 'a' });
  // A child's last output can arrive after its exit, and so after stop() closed the log: dropped then.
  const write = (data: string | Buffer) => {
    if (!log.writableEnded) log.write(data);
  };
  let child: ChildProcess | undefined;
  let starts = 0;
  let stopping = false;
  let deliberate = false;
  let running = false;
  let frozen = false;
  let readyWaiters: Array<() => void> = [];
  const exits: RoleExit[] = [];
  let restartTimer: NodeJS.Timeout | undefined;

  const spawnOnce = () => {
    starts++;
    running = false;
    deliberate = false;
    write(`\n=== chaos: start #${starts} of ${o.name} at ${new Date().toISOString()} ===\n`);
    const c = spawn(
      process.execPath,
      ['--conditions=@burnrate/source', '--import', 'tsx', 'services/burnrate/src/main.ts', 'run'],
      {
        cwd: o.rootDir,
        env: { ...process.env, LOG_LEVEL: 'info', METRICS_PORT: '0', ...o.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child = c;
    track(c);
    let tail = '';
    const onData = (chunk: Buffer) => {
      write(chunk);
      if (running) return;
      tail = (tail + chunk.toString()).slice(-4_096);
      if (tail.includes('"msg":"burnrate is running"')) {
        running = true;
        for (const w of readyWaiters.splice(0)) w();
      }
    };
    c.stdout!.on('data', onData);
    c.stderr!.on('data', onData);
    c.once('exit', (code, signal) => {
      exits.push({ atMs: Date.now(), code, signal, deliberate });
      write(`\n=== chaos: ${o.name} exited (code ${code}, signal ${signal}) ===\n`);
      if (child === c) child = undefined;
      if (!stopping) restartTimer = setTimeout(spawnOnce, o.restartDelayMs ?? 500);
    });
  };
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((r) => c.once('exit', () => r()));

  spawnOnce();
  return {
    name: o.name,
    logPath: o.logPath,
    pid: () => child?.pid,
    starts: () => starts,
    exits: () => [...exits],
    isRunning: () => running && child !== undefined && !frozen,
    ready(timeoutMs = 120_000) {
      if (running) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${o.name} did not start within ${timeoutMs} ms (see ${o.logPath})`)),
          timeoutMs,
        );
        readyWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    async kill() {
      const c = child;
      if (!c) return;
      deliberate = true;
      c.kill('SIGKILL');
      await exited(c);
    },
    freeze() {
      frozen = true;
      child?.kill('SIGSTOP');
    },
    thaw() {
      frozen = false;
      child?.kill('SIGCONT');
    },
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      readyWaiters = [];
      const c = child;
      if (c) {
        deliberate = true;
        c.kill('SIGCONT');
        c.kill('SIGTERM');
        const timer = setTimeout(() => c.kill('SIGKILL'), 30_000);
        await exited(c);
        clearTimeout(timer);
      }
      await new Promise<void>((r) => log.end(() => r()));
    },
  };
}
