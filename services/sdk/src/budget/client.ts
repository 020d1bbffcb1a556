import { type BudgetAnswer, ConfigError, ValidationError } from '@burnrate/core';
import { readAnswer } from './answer.js';
import { AnswerCache } from './answer-cache.js';
import { BudgetUnavailableError } from './errors.js';

/** What to ask GET /v1/budget about. Only `customerRef` is required. */
export interface BudgetQuery {
  /** The customer's `customer_ref`; the API key must be allowed to act for it. */
  customerRef: string;
  /** Adds the workflow's run forecast to the decision, and a model suggestion. */
  workflow?: string;
  /** A workflow run: its cost, steps, retries and depth so far (`answer.run`). */
  runId?: string;
  /** The model the next step would use, for the suggestion. */
  model?: string;
  /** The effort class of the run about to start (`xs` … `xxl`, or an alias such as `summary`). */
  effort?: string;
  /** Instead of `effort`: the prompt size, whose band gives the effort class. */
  promptTokens?: number;
}

export interface BudgetClientOptions {
  /** Where the `api` role listens, e.g. `http://burnrate-api:8787` (a path prefix is kept). */
  url: string;
  /** An API key with the `budget` scope (`brk_…`). Sent as a bearer token, never logged. */
  apiKey: string;
  /** How long an answer is reused for the same query. 0 turns the cache off. Default 1000 ms. */
  cacheMs?: number;
  /** How long one request may take, body included. Default 2000 ms. */
  timeoutMs?: number;
  /** A fetch implementation; Node's global fetch by default. */
  fetch?: typeof fetch;
}

/** Reads GET /v1/budget. Safe to share across a process: one client, one cache. */
export interface BudgetClient {
  /**
   * The customer's budget answer for `query`. Identical queries within `cacheMs` get the same
   * (frozen) answer, and identical calls in flight share one request; failures are not cached.
   * @throws BudgetApiError for an error status (400, 401, 403, 429, 5xx) with the API's message.
   * @throws BudgetUnavailableError on a timeout, a network failure, or a 200 that is not an answer.
   * @throws ValidationError (code `invalid_query`, `field` = the query field) for a malformed query.
   */
  checkBudget(query: BudgetQuery): Promise<BudgetAnswer>;
}

/**
 * Creates a client of burnrate's budget API.
 * @throws ConfigError (code `invalid_config`, `field` = the option) for a url that is not http(s),
 * a missing or malformed apiKey, or a negative cacheMs / non-positive timeoutMs.
 */
export function createBudgetClient(options: BudgetClientOptions): BudgetClient {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', 'createBudgetClient needs options: { url, apiKey }.');
  }
  const endpoint = budgetEndpoint(options.url);
  const authorization = `Bearer ${checkApiKey(options.apiKey)}`;
  const cacheMs = checkMs(options.cacheMs ?? 1000, 'cacheMs', 0);
  const timeoutMs = checkMs(options.timeoutMs ?? 2000, 'timeoutMs', 1);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new ConfigError('fetch', 'fetch must be a function.');
  const cache = new AnswerCache<BudgetAnswer>(cacheMs);

  async function request(search: string): Promise<BudgetAnswer> {
    const url = `${endpoint}?${search}`;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    let response: Response;
    let body: string;
    try {
      response = await fetchImpl(url, {
        headers: { authorization, accept: 'application/json' },
        signal: controller.signal,
      });
      body = await response.text();
    } catch (error) {
      if (timedOut) {
        throw new BudgetUnavailableError(
          'budget_timeout',
          `The budget API at ${origin(endpoint)} did not answer within ${timeoutMs} ms.`,
        );
      }
      throw new BudgetUnavailableError(
        'budget_unreachable',
        `The budget API at ${origin(endpoint)} could not be reached: ${describeCause(error)}.`,
        error,
      );
    } finally {
      clearTimeout(timer);
    }
    return readAnswer(response.status, response.statusText, response.headers, body);
  }

  return {
    checkBudget(query: BudgetQuery): Promise<BudgetAnswer> {
      let search: string;
      try {
        search = budgetSearch(query);
      } catch (error) {
        return Promise.reject(error);
      }
      return cache.get(search, () => request(search));
    },
  };
}

const QUERY = 'invalid_query';

/** The query string of GET /v1/budget; also the cache key (same query, same string). */
export function budgetSearch(query: BudgetQuery): string {
  if (typeof query?.customerRef !== 'string' || query.customerRef === '') {
    throw new ValidationError('customerRef', 'checkBudget: customerRef must be a non-empty string.', QUERY);
  }
  const params = new URLSearchParams({ customer: query.customerRef });
  for (const [name, value] of [
    ['workflow', query.workflow],
    ['run', query.runId],
    ['model', query.model],
    ['effort', query.effort],
  ] as const) {
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') {
      const field = name === 'run' ? 'runId' : name;
      throw new ValidationError(field, `checkBudget: ${field} must be a non-empty string.`, QUERY);
    }
    params.set(name, value);
  }
  if (query.promptTokens !== undefined) {
    if (!Number.isSafeInteger(query.promptTokens) || query.promptTokens < 0) {
      throw new ValidationError(
        'promptTokens',
        'checkBudget: promptTokens must be a non-negative integer.',
        QUERY,
      );
    }
    params.set('prompt_tokens', String(query.promptTokens));
  }
  return params.toString();
}

function budgetEndpoint(text: unknown): string {
  let url: URL | undefined;
  try {
    url = typeof text === 'string' ? new URL(text) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError('url', 'url must be an http:// or https:// URL, e.g. http://burnrate-api:8787.');
  }
  if (url.username || url.password) {
    throw new ConfigError('url', 'url must not carry credentials; pass the API key as apiKey.');
  }
  if (url.search || url.hash) throw new ConfigError('url', 'url must not have a query or a fragment.');
  const base = url.pathname.endsWith('/') ? url.href : `${url.href}/`;
  return new URL('v1/budget', base).href;
}

// Header values must be visible ASCII; the key itself never appears in a message.
const API_KEY = /^[\x21-\x7e]+$/;

function checkApiKey(value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new ConfigError('apiKey', 'apiKey is required: an API key with the budget scope (brk_…).');
  }
  if (!API_KEY.test(value)) {
    throw new ConfigError('apiKey', 'apiKey must be printable ASCII without spaces (as issued: brk_…).');
  }
  return value;
}

function checkMs(value: unknown, option: string, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ConfigError(option, `${option} must be a number of milliseconds ≥ ${min}.`);
  }
  return value;
}

function origin(endpoint: string): string {
  return new URL(endpoint).origin;
}

/** The innermost cause's message (undici wraps the socket error in a generic "fetch failed"). */
function describeCause(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  if (!(current instanceof Error)) return String(current);
  const code = (current as Error & { code?: unknown }).code;
  return typeof code === 'string' ? `${current.message} (${code})` : current.message;
}
