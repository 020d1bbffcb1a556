import { MAX_ID_LENGTH } from '@burnrate/core';
import { HttpError } from './http.js';

/**
 * The query parameters of a GET endpoint, checked: unknown names and repeated ones are refused (a
 * typo must not silently widen an answer), values are bounded.
 */
export function readQuery(
  url: URL,
  allowed: readonly string[],
  required: readonly string[],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    if (!allowed.includes(name)) {
      throw new HttpError(
        400,
        'unknown_parameter',
        `${name} is not a parameter of ${url.pathname} (known: ${allowed.join(', ')}).`,
        name,
      );
    }
    if (out.has(name))
      throw new HttpError(400, 'repeated_parameter', `${name} is given more than once.`, name);
    if (value.length === 0 || value.length > MAX_ID_LENGTH) {
      throw new HttpError(
        400,
        'invalid_parameter',
        `${name} must be 1 to ${MAX_ID_LENGTH} characters.`,
        name,
      );
    }
    out.set(name, value);
  }
  for (const name of required) {
    if (!out.has(name)) throw new HttpError(400, 'missing_parameter', `${name} is required.`, name);
  }
  return out;
}

/** A non-negative integer parameter, or undefined when absent. */
export function intParameter(q: Map<string, string>, name: string): number | undefined {
  const text = q.get(name);
  if (text === undefined) return undefined;
  if (!/^\d{1,10}$/.test(text)) {
    throw new HttpError(400, 'invalid_parameter', `${name} must be a whole number (got "${text}").`, name);
  }
  return Number(text);
}
