import {
  BurnrateError,
  type DecodedUsageEvent,
  DecodeError,
  decodeUsageEvent,
  type UsageEvent,
  ValidationError,
  validateUsageEvent,
} from '@burnrate/core';
import type { AvroCase } from './cases.js';
import { ReferenceDecodeError, referenceDecode } from './reference-decoder.js';

export type Decode = (bytes: Uint8Array) => DecodedUsageEvent;

export interface DecoderCheck {
  /** `valid`, a typed error code, or `untyped`. */
  outcome: string;
  valid: boolean;
  /** Decode plus validation, in milliseconds. */
  ms: number;
  /** What is wrong, when something is. */
  problem?: string;
}

const KINDS_NAMING_A_FIELD = new Set(['extreme_value', 'oversized_string', 'oversized_map']);

/**
 * Runs one case through the decoder and the validator, as the enricher does, and judges it:
 * - anything thrown must be a BurnrateError: a DecodeError (`undecodable`, `unknown_schema`) or a
 *   ValidationError naming a field — the field the mutation wrote, when it wrote one;
 * - the production decoder must agree with an independent strict reader: what one refuses the
 *   pipeline refuses, and what both accept decodes to the same values (nothing lost or altered).
 */
export function checkDecoderCase(c: AvroCase, decode: Decode = decodeUsageEvent): DecoderCheck {
  const started = performance.now();
  let decoded: DecodedUsageEvent | undefined;
  let error: unknown;
  let validated: UsageEvent | undefined;
  try {
    decoded = decode(c.bytes);
    validated = validateUsageEvent(decoded.event);
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - started;
  const done = (outcome: string, problem?: string): DecoderCheck => ({
    outcome,
    valid: validated !== undefined,
    ms,
    ...(problem ? { problem } : {}),
  });

  if (error !== undefined && !(error instanceof BurnrateError)) {
    const e = error as Error;
    return done('untyped', `untyped ${e?.name ?? typeof e}: ${String(e?.message ?? e).slice(0, 200)}`);
  }
  let reference: ReturnType<typeof referenceDecode> | undefined;
  let refused: string | undefined;
  try {
    reference = referenceDecode(c.bytes);
  } catch (e) {
    if (!(e instanceof ReferenceDecodeError)) throw e;
    refused = e.message;
  }
  if (error instanceof BurnrateError) {
    const outcome = error.code;
    if (!decoded) {
      if (!(error instanceof DecodeError) || !['undecodable', 'unknown_schema'].includes(error.code)) {
        return done(outcome, `the decoder threw ${error.name} ${error.code}, not a DecodeError`);
      }
      if (reference) return done(outcome, `the decoder refused a well-formed event: ${error.message}`);
      return done(outcome);
    }
    if (!(error instanceof ValidationError) || !error.field) {
      return done(outcome, `validation threw ${error.name} ${error.code} without a field`);
    }
    if (c.field && KINDS_NAMING_A_FIELD.has(c.kind) && !sameField(error.field, c.field)) {
      return done(
        outcome,
        `the error names ${error.field}, but the mutation wrote ${c.field}: ${error.message}`,
      );
    }
    if (reference) {
      const diff = difference(decoded.event, reference.event);
      if (diff) return done(outcome, `the decoded event differs from its bytes at ${diff}`);
    }
    return done(outcome);
  }
  if (refused !== undefined)
    return done('valid', `the decoder accepted bytes a strict reader refuses: ${refused}`);
  const diff = difference(decoded!.event, reference!.event);
  if (diff) return done('valid', `the decoded event differs from its bytes at ${diff}`);
  return done('valid');
}

function sameField(named: string, written: string): boolean {
  return named === written || named.startsWith(`${written}.`);
}

/** The first path where two decoded values differ (own keys only, Object.is on leaves), or null. */
export function difference(a: unknown, b: unknown, path = ''): string | null {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    return Object.is(a, b) ? null : `${path || '(root)'}: ${show(a)} ≠ ${show(b)}`;
  }
  const keysA = Object.keys(a).sort();
  const keysB = Object.keys(b).sort();
  if (keysA.join('\u0000') !== keysB.join('\u0000')) {
    return `${path || '(root)'}: keys [${keysA.join(', ')}] ≠ [${keysB.join(', ')}]`;
  }
  for (const key of keysA) {
    const d = difference(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      path ? `${path}.${key}` : key,
    );
    if (d) return d;
  }
  return null;
}

function show(v: unknown): string {
  const text = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
