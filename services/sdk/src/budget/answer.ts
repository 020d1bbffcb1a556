import type { BudgetAnswer } from '@burnrate/core';
import { BudgetApiError, BudgetUnavailableError } from './errors.js';

const DECISIONS = new Set(['allow', 'warn', 'deny']);
const NANOS = /^-?\d+$/;

/**
 * Turns one HTTP answer of GET /v1/budget into a frozen BudgetAnswer, or the typed error it means.
 * Only what the guardrail relies on is checked (decision, reasons, exact money of the run); the
 * rest is passed through as the API sent it.
 */
export function readAnswer(status: number, statusText: string, headers: Headers, body: string): BudgetAnswer {
  if (status < 200 || status > 299) throw apiError(status, statusText, headers, body);
  const answer = parseJson(body);
  if (!isBudgetAnswer(answer)) {
    throw new BudgetUnavailableError(
      'budget_bad_response',
      `The budget API answered ${status} with a body that is not a budget answer (is url the burnrate api role?).`,
    );
  }
  return deepFreeze(answer);
}

function apiError(status: number, statusText: string, headers: Headers, body: string): BudgetApiError {
  const retryAfter = Number(headers.get('retry-after') ?? Number.NaN);
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : null;
  const parsed = parseJson(body) as
    | { error?: { code?: unknown; message?: unknown; field?: unknown } }
    | undefined;
  const error = parsed?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    return new BudgetApiError(status, error.code, error.message, {
      field: typeof error.field === 'string' ? error.field : undefined,
      retryAfterSeconds,
    });
  }
  const text = statusText ? `${status} ${statusText}` : String(status);
  return new BudgetApiError(
    status,
    `http_${status}`,
    `The budget API answered ${text} without an error body.`,
    {
      retryAfterSeconds,
    },
  );
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function isMoney(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && NANOS.test(String((value as { nanos?: unknown }).nanos))
  );
}

function isBudgetAnswer(value: unknown): value is BudgetAnswer {
  if (typeof value !== 'object' || value === null) return false;
  const a = value as Partial<Record<keyof BudgetAnswer, unknown>>;
  if (!DECISIONS.has(a.decision as string) || !Array.isArray(a.reasons) || !isMoney(a.spend)) return false;
  if (a.run === null || a.run === undefined) return true;
  const run = a.run as { cost?: unknown; steps?: unknown };
  return typeof run === 'object' && isMoney(run.cost) && Number.isInteger(run.steps);
}

/** Answers are shared by every caller within cacheMs: freezing keeps one caller from changing another's. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
