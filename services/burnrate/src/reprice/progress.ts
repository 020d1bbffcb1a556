/** What the run tells the operator while it works; the CLI draws it on stderr, tests record it. */
export interface RepriceProgress {
  /** Called once with the number of facts that match, before scanning. */
  start(total: number): void;
  /** After each chunk. */
  scanned(done: number, changed: number): void;
  /** A step after the scan, e.g. "applying 1,234 changes". */
  phase(text: string): void;
  finish(): void;
}

export const silentProgress: RepriceProgress = { start() {}, scanned() {}, phase() {}, finish() {} };

export interface BarState {
  done: number;
  total: number;
  changed: number;
  elapsedMs: number;
}

/** One line: `[#######.............]  35%  3,500/10,000 facts  120 changed  2,400/s`. */
export function renderBar(s: BarState, width = 24): string {
  const ratio = s.total > 0 ? Math.min(1, s.done / s.total) : 1;
  const filled = Math.round(ratio * width);
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  const rate = s.elapsedMs > 0 ? Math.round((s.done * 1000) / s.elapsedMs) : 0;
  const n = (x: number) => x.toLocaleString('en-US');
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${percent}  ${n(s.done)}/${n(s.total)} facts  ${n(s.changed)} changed  ${n(rate)}/s`;
}

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * A text progress bar. On a terminal it redraws one line in place; elsewhere (CI logs, files) a
 * redraw would be noise, so it prints a line at most every `intervalMs`, plus the last one.
 */
export function createProgressBar(
  stream: ProgressStream,
  options: { now?: () => number; intervalMs?: number } = {},
): RepriceProgress {
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? 5_000;
  const tty = stream.isTTY === true;
  let startedAt = now();
  let total = 0;
  let lastPrintAt = Number.NEGATIVE_INFINITY;
  let state: BarState = { done: 0, total: 0, changed: 0, elapsedMs: 0 };
  let drawn = false;
  const draw = (force: boolean) => {
    const at = now();
    state = { ...state, elapsedMs: at - startedAt };
    if (tty) {
      stream.write(`\r\x1b[2K${renderBar(state)}`);
      drawn = true;
    } else if (force || at - lastPrintAt >= intervalMs) {
      stream.write(`${renderBar(state)}\n`);
      lastPrintAt = at;
    }
  };
  const endLine = () => {
    if (drawn) stream.write('\n');
    drawn = false;
  };
  return {
    start(n) {
      total = n;
      startedAt = now();
      state = { done: 0, total, changed: 0, elapsedMs: 0 };
      draw(true);
    },
    scanned(done, changed) {
      state = { ...state, done, changed };
      draw(done >= total);
    },
    phase(text) {
      endLine();
      stream.write(`${text}\n`);
    },
    finish() {
      endLine();
    },
  };
}
