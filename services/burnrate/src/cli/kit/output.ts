import { formatNanosAsUsd } from '@burnrate/core';
import Table from 'cli-table3';

/** One column of a table printed for people. */
export interface Column {
  title: string;
  /** Numbers and money read better right-aligned. */
  align?: 'left' | 'right';
  /** Longer cells are cut to this many characters, ending in `…`. */
  maxChars?: number;
  /** Keep runs of spaces (an indented tree); line breaks still become spaces. */
  keepSpaces?: boolean;
}

/** Where a command writes: stdout for results, stderr for progress and warnings. */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is a terminal (progress bars only then). */
  interactive: boolean;
}

export const processOutput: CliOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY),
};

const BORDERLESS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

/** Control characters (ESC, BEL, C1 …) left after whitespace is flattened: never sent to a terminal. */
const CONTROL = /\p{Cc}/gu;

/**
 * A value as one table cell: whitespace flattened to spaces, control characters removed (a stored
 * workflow, model or DLQ message with `\x1b[` must not drive the terminal), cut to `maxChars`.
 */
export function cell(value: string, maxChars: number | undefined, keepSpaces = false): string {
  const flat = (
    keepSpaces ? value.replace(/[\r\n\t]+/g, ' ').trimEnd() : value.replace(/\s+/g, ' ').trim()
  ).replace(CONTROL, '');
  if (maxChars === undefined) return flat;
  const chars = [...flat];
  return chars.length <= maxChars ? flat : `${chars.slice(0, Math.max(0, maxChars - 1)).join('')}…`;
}

/** An aligned, borderless table (cli-table3): a header row, then one row per item. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const table = new Table({
    head: columns.map((c) => c.title),
    chars: BORDERLESS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    colAligns: columns.map((c) => c.align ?? 'left'),
  });
  for (const row of rows) table.push(columns.map((c, i) => cell(row[i] ?? '', c.maxChars, c.keepSpaces)));
  return `${table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')}\n`;
}

/** Money for people: USD with cents, more decimals only where they matter ($0.000042). */
export function usd(nanos: bigint | number): string {
  const text = formatNanosAsUsd(nanos);
  return text.startsWith('-') ? `-$${text.slice(1)}` : `$${text}`;
}

/** A count for people: 1,234,567. */
export function count(n: bigint | number): string {
  return n.toLocaleString('en-US');
}

/** JSON for machines: bigints (exact nano-USD) as decimal strings, one document, newline-terminated. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;
}
