/** Counts per mutation kind, for one path. */
export interface KindCounts {
  cases: number;
  /** Inputs that are still valid events after mutation (by the contract's decoder and validator). */
  valid: number;
  /** Outcomes by name: typed error codes, dead-letter reasons, HTTP statuses, `fact`. */
  outcomes: Record<string, number>;
  /** Cases the harness judged wrong (untyped errors, hangs, wrong facts, 5xx, ...). */
  failures: number;
}

export interface Failure {
  path: FuzzPath;
  index: number;
  kind: string;
  variant: string;
  problem: string;
}

export type FuzzPath = 'decoder' | 'enricher' | 'http';

export interface PathReport {
  path: FuzzPath;
  cases: number;
  byKind: Record<string, KindCounts>;
  failures: Failure[];
  /** All failures, also those beyond the ones kept in `failures`. */
  failureCount: number;
  /** Processes that died or stopped being ready during the run (0 is the only good number). */
  crashes: number;
  slowestMs: number;
  slowest: string;
  durationMs: number;
  /** Anything else worth printing, e.g. the peak memory growth of the decoder path. */
  notes: string[];
}

const KEPT_FAILURES = 50;

export function emptyReport(path: FuzzPath): PathReport {
  return {
    path,
    cases: 0,
    byKind: {},
    failures: [],
    failureCount: 0,
    crashes: 0,
    slowestMs: 0,
    slowest: '',
    durationMs: 0,
    notes: [],
  };
}

function kindOf(report: PathReport, kind: string): KindCounts {
  report.byKind[kind] ??= { cases: 0, valid: 0, outcomes: {}, failures: 0 };
  return report.byKind[kind];
}

export function count(report: PathReport, kind: string, outcome: string, valid: boolean): void {
  const k = kindOf(report, kind);
  k.cases++;
  if (valid) k.valid++;
  k.outcomes[outcome] = (k.outcomes[outcome] ?? 0) + 1;
  report.cases++;
}

export function fail(report: PathReport, failure: Failure): void {
  kindOf(report, failure.kind).failures++;
  report.failureCount++;
  // Failures of the run or the process (index -1) say the most: they are listed first, always.
  if (failure.index < 0) report.failures.unshift(failure);
  else if (report.failures.length < KEPT_FAILURES) report.failures.push(failure);
}

export function timing(report: PathReport, ms: number, what: string): void {
  if (ms > report.slowestMs) {
    report.slowestMs = ms;
    report.slowest = what;
  }
}

/** Adds `part` (a report of a range of cases of the same path) into `into`. */
export function merge(into: PathReport, part: PathReport): void {
  into.cases += part.cases;
  for (const [kind, k] of Object.entries(part.byKind)) {
    const t = kindOf(into, kind);
    t.cases += k.cases;
    t.valid += k.valid;
    t.failures += k.failures;
    for (const [o, n] of Object.entries(k.outcomes)) t.outcomes[o] = (t.outcomes[o] ?? 0) + n;
  }
  for (const f of part.failures) if (into.failures.length < KEPT_FAILURES) into.failures.push(f);
  into.failureCount += part.failureCount;
  into.crashes += part.crashes;
  if (part.slowestMs > into.slowestMs) {
    into.slowestMs = part.slowestMs;
    into.slowest = part.slowest;
  }
  into.notes.push(...part.notes);
}

/** The report as the lines `npm run fuzz` prints. */
export function formatReport(seed: number, reports: PathReport[]): string {
  const lines: string[] = [`seed ${seed}`];
  for (const r of reports) {
    lines.push(
      '',
      `${r.path}: ${r.cases} cases in ${(r.durationMs / 1000).toFixed(1)} s, failures ${r.failureCount}, crashes ${r.crashes}${r.slowest ? `, slowest ${r.slowestMs.toFixed(1)} ms (${r.slowest})` : ''}`,
    );
    const width = Math.max(...Object.keys(r.byKind).map((k) => k.length), 4);
    for (const [kind, k] of Object.entries(r.byKind).sort(([a], [b]) => a.localeCompare(b))) {
      const outcomes = Object.entries(k.outcomes)
        .sort(([, a], [, b]) => b - a)
        .map(([o, n]) => `${o} ${n}`)
        .join(', ');
      lines.push(
        `  ${kind.padEnd(width)}  cases ${k.cases}, valid ${k.valid}, failures ${k.failures}: ${outcomes}`,
      );
    }
    for (const note of r.notes) lines.push(`  ${note}`);
    for (const f of r.failures) lines.push(`  FAIL #${f.index} ${f.kind} ${f.variant}: ${f.problem}`);
    if (r.failureCount > r.failures.length)
      lines.push(`  … and ${r.failureCount - r.failures.length} more failures`);
  }
  const total = reports.reduce((n, r) => n + r.cases, 0);
  const failures = reports.reduce((n, r) => n + r.failureCount, 0);
  const crashes = reports.reduce((n, r) => n + r.crashes, 0);
  lines.push('', `total ${total} cases, failures ${failures}, crashes ${crashes}, seed ${seed}`);
  return lines.join('\n');
}
