import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatInstant, ValidationError } from '@burnrate/core';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { stringify } from 'csv-stringify';
import { loadConfig } from '../config/load.js';
import {
  countFocusRows,
  EXPORT_COLUMNS,
  type FocusQuery,
  focusGroups,
  focusRecord,
  GRAIN_MS,
  GRAINS,
  type Grain,
  overriddenListCosts,
  rowKey,
} from '../export/focus.js';
import { loadReference } from '../pricing/reference-files.js';
import { createTemp } from './kit/atomic-file.js';
import { openReadDb } from './kit/clickhouse.js';
import { type CliOutput, processOutput } from './kit/output.js';
import { type Period, parseWhen, resolvePeriod } from './kit/period.js';

interface FocusOptions {
  from?: string;
  to?: string;
  out?: string;
  grain: string;
}

export interface ExportDeps {
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

function startOfMonth(ms: number, monthsBack = 0): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - monthsBack, 1);
}

/**
 * --from/--to for an export. Neither given: the last full calendar month (UTC). Only --from: up to the
 * start of the current charge period. Only --to: from the start of the month --to falls in (or the
 * month before, when --to is a month start). Both ends must lie on a charge-period boundary so every
 * row covers its whole charge period.
 */
export function resolveExportPeriod(options: FocusOptions, grain: Grain, nowMs: number): Period {
  const step = GRAIN_MS[grain];
  let { from, to } = options;
  if (from === undefined && to === undefined) {
    from = formatInstant(startOfMonth(nowMs, 1));
    to = formatInstant(startOfMonth(nowMs));
  } else if (to === undefined) {
    to = formatInstant(Math.floor(nowMs / step) * step);
  } else if (from === undefined) {
    from = formatInstant(startOfMonth(parseWhen(to, '--to', nowMs) - 1));
  }
  const period = resolvePeriod({ from, to }, nowMs);
  for (const [flag, ms] of [
    ['--from', period.fromMs],
    ['--to', period.toMs],
  ] as const) {
    if (ms % step !== 0) {
      throw new ValidationError(
        flag,
        `${flag} ${formatInstant(ms)} is not at the start of ${grain === 'day' ? 'a UTC day' : 'an hour'}: with --grain ${grain} give a time on a ${grain} boundary so every row covers its whole charge period.`,
        'invalid_argument',
      );
    }
  }
  return period;
}

function parseGrain(text: string): Grain {
  if ((GRAINS as readonly string[]).includes(text)) return text as Grain;
  throw new ValidationError(
    '--grain',
    `--grain "${text}" is not a charge period: give hour or day.`,
    'invalid_argument',
  );
}

function stdoutSink(output: CliOutput): Writable {
  if (output === processOutput) return process.stdout;
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      output.out(chunk.toString('utf8'));
      done();
    },
  });
}

async function exportFocus(
  options: FocusOptions,
  output: CliOutput,
  deps: Required<ExportDeps>,
): Promise<void> {
  const grain = parseGrain(options.grain);
  const period = resolveExportPeriod(options, grain, deps.now());
  // Checked before any query: a bad --out must fail fast and leave nothing behind.
  const temp = options.out === undefined ? undefined : createTemp(options.out);
  let done = false;
  try {
    const config = loadConfig(deps.env);
    // The catalog as the enricher and reprice read it: JSON or YAML, validated, else the bundled one.
    const catalog = loadReference({}, config).prices;
    // Read-only, as every read command: through a running burnrate's HTTP interface when it owns chDB.
    const db = await openReadDb(config, { requestTimeoutMs: 3_600_000 });
    const client = db.client;
    try {
      const query: FocusQuery = {
        client,
        database: config.CLICKHOUSE_DATABASE,
        fromMs: period.fromMs,
        toMs: period.toMs,
        grain,
      };
      const listCosts = await overriddenListCosts(query, catalog);
      const bar = output.interactive
        ? new SingleBar({
            stream: process.stderr,
            format: 'FOCUS export [{bar}] {percentage}% {value}/{total} rows',
          })
        : undefined;
      bar?.start(await countFocusRows(query), 0);
      async function* records() {
        for await (const row of focusGroups(query)) {
          yield focusRecord(row, listCosts.get(rowKey(row)), grain);
          bar?.increment();
        }
      }
      const csv = stringify({ header: true, columns: [...EXPORT_COLUMNS], record_delimiter: 'unix' });
      const sink = temp ? createWriteStream(temp) : stdoutSink(output);
      try {
        await pipeline(Readable.from(records()), csv, sink, { end: sink !== process.stdout });
      } finally {
        bar?.stop();
      }
    } finally {
      await db.close();
    }
    if (temp && options.out !== undefined) renameSync(temp, options.out);
    done = true;
  } finally {
    if (temp && !done) rmSync(temp, { force: true });
  }
}

/**
 * `burnrate export focus`: priced usage as FOCUS 1.2 CSV (docs/focus.md). Commander errors and bad
 * flags are thrown, and runCli/exitCodeFor decide the exit code.
 */
export function createExportCommand(output: CliOutput = processOutput, deps: ExportDeps = {}): Command {
  const resolved: Required<ExportDeps> = { env: deps.env ?? process.env, now: deps.now ?? Date.now };
  const command = new Command('export').description('write priced usage in a standard format');
  command
    .command('focus')
    .description(
      'priced usage as FinOps FOCUS 1.2 CSV, one row per charge period, customer, model and charge',
    )
    .option(
      '--from <when>',
      'start, inclusive, on a grain boundary: ISO date or instant (default: start of last full month, UTC)',
    )
    .option(
      '--to <when>',
      'end, exclusive, on a grain boundary: ISO date or instant, now (default: end of last full month)',
    )
    .option('--grain <grain>', 'charge period: hour or day', 'day')
    .option(
      '--out <file>',
      'write to this file (atomically: a temporary file renamed when done); default stdout',
    )
    .action((options: FocusOptions) => exportFocus(options, output, resolved));
  return command;
}
