import { formatInstant, ValidationError } from '@burnrate/core';
import { parseWhen } from '../../cli/kit/period.js';
import { HttpError } from '../api/http.js';

/** The dimensions a page may filter or group by, and the column each one names (a fixed allow-list). */
export const DIMENSIONS = { customer: 'customer_id', workflow: 'workflow', model: 'model' } as const;
export type Dimension = keyof typeof DIMENSIONS;

/** What every panel query is scoped by: a half-open time range and optional equality filters. */
export interface Scope {
  fromMs: number;
  toMs: number;
  filters: Partial<Record<Dimension, string>>;
}

const DAY_MS = 86_400_000;
const MAX_SPAN_MS = 400 * DAY_MS;
const KNOWN = new Set(['from', 'to', 'by', ...Object.keys(DIMENSIONS)]);

/**
 * The scope of a panel request: `from` (default 7d back) and `to` (default now) as ISO dates or
 * instants, `now`, or spans back (24h, 7d); `customer`, `workflow`, `model` as exact values. Anything
 * else is a 400 with one sentence.
 */
export function parseScope(params: URLSearchParams, nowMs: number): Scope {
  for (const name of params.keys()) {
    if (!KNOWN.has(name))
      throw bad(`Unknown query parameter "${name}": use from, to, customer, workflow or model.`);
  }
  const toMs = when(params.get('to'), 'to', nowMs, nowMs);
  const fromMs = when(params.get('from'), 'from', nowMs, toMs - 7 * DAY_MS);
  if (fromMs >= toMs) {
    throw bad(`from ${formatInstant(fromMs)} is not before to ${formatInstant(toMs)}: give an earlier from.`);
  }
  if (toMs - fromMs > MAX_SPAN_MS) throw bad('The range is longer than 400 days: give a shorter one.');
  const filters: Scope['filters'] = {};
  for (const dim of Object.keys(DIMENSIONS) as Dimension[]) {
    const value = params.get(dim);
    if (value === null) continue;
    if (value === '' || value.length > 256) throw bad(`${dim} must be 1 to 256 characters.`);
    filters[dim] = value;
  }
  return { fromMs, toMs, filters };
}

/** `by` for the spend panel: one of the dimensions. */
export function parseBy(params: URLSearchParams): Dimension {
  const by = params.get('by') ?? 'customer';
  if (!(by in DIMENSIONS)) throw bad(`by "${by}" is not one of customer, workflow, model.`);
  return by as Dimension;
}

function when(text: string | null, name: string, nowMs: number, fallback: number): number {
  if (text === null) return fallback;
  try {
    return parseWhen(text, name, nowMs);
  } catch (error) {
    if (error instanceof ValidationError) throw bad(error.message);
    throw error;
  }
}

export function bad(message: string): HttpError {
  return new HttpError(400, 'bad_request', message);
}
