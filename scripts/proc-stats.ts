// Per-process CPU time and peak memory from /proc (Linux), for the multi-process benchmarks.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** User + system CPU seconds a process has used so far; 0 if it is gone. */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Peak resident set size of a process (VmHWM), in MB; -1 if it is gone. */
export function peakRssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
  } catch {
    return -1;
  }
}

/**
 * The process listening on a TCP port of this machine (from /proc/net/tcp{,6} and each process's
 * open sockets), so a benchmark measures the broker it talks to even when others run beside it.
 */
export function listenerPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; the inode is the 10th field.
      if (f.length > 9 && f[3] === '0A' && Number.parseInt(f[1]!.split(':')[1]!, 16) === port)
        inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const link = readlinkSync(`/proc/${entry}/fd/${fd}`);
        if (link.startsWith('socket:[') && inodes.has(link.slice(8, -1))) return Number(entry);
      } catch {}
    }
  }
  return undefined;
}

/** The Kafka broker a benchmark uses: the process listening on the first of KAFKA_BROKERS' ports. */
export function brokerPid(brokers: string): number | undefined {
  return listenerPid(Number(brokers.split(',')[0]!.split(':').pop()));
}

/** The Redis server a benchmark uses (REDIS_URL, default 127.0.0.1:6379). */
export function redisPid(): number | undefined {
  return listenerPid(Number(new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').port || 6379));
}

/**
 * CPU seconds per thread name of a process (Linux); the main thread is "main" (in Node: the
 * JavaScript thread). libuv's workers are named like the process ("node"); chDB runs a query on
 * the libuv worker that started it and its pipelines on ClickHouse's "ThreadPool" threads.
 */
export function threadCpu(pid: number | undefined): Map<string, number> {
  const byName = new Map<string, number>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return byName;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[0-9]+$/, '');
      const name = tid === String(pid) ? 'main' : comm;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
      byName.set(name, (byName.get(name) ?? 0) + seconds);
    } catch {}
  }
  return byName;
}
