import type { UsageEvent } from '@burnrate/core';
import { AVRO_KINDS, type AvroMutation, mutateAvro, type TimeLimits } from './avro-mutations.js';
import { baseEvent } from './base-events.js';
import { type BodyLimits, JSON_KINDS, type JsonMutation, mutateJson } from './json-mutations.js';
import { classifyAvro, classifyJsonBody } from './oracle.js';
import { createRng } from './rng.js';

/** The id of the API key the fuzz sends with (it fills in `service` when an event has none). */
export const FUZZ_KEY_ID = 'fuzz';

/**
 * Everything a fuzz case depends on. Case `i` of a path is made from its own generator, derived from
 * the seed, the path and `i`: any one case is rebuilt from these numbers alone (`fuzzCase`).
 */
export interface FuzzPlan {
  seed: number;
  /** Event times are relative to this instant (the run's start). */
  nowMs: number;
  lateHorizonMs: number;
  maxFutureSkewMs: number;
  /** Largest record value the enricher path produces (the broker refuses ~1 MiB). */
  maxRecordBytes: number;
  body: BodyLimits;
}

export interface AvroCase extends AvroMutation {
  index: number;
  /** The event before mutation. */
  base: UsageEvent;
  /** Whether the mutated bytes are still a valid event, by the contract's decoder and validator. */
  valid: boolean;
}

export interface JsonCase extends JsonMutation {
  index: number;
  base: UsageEvent;
  /** Whether the body is still all valid events, by the contract (see classifyJsonBody). */
  valid: boolean;
}

export function avroCase(plan: FuzzPlan, path: 'decoder' | 'enricher', index: number): AvroCase {
  const rng = createRng(plan.seed).fork(`${path}:${index}`);
  const kind = AVRO_KINDS[index % AVRO_KINDS.length]!;
  const base = baseEvent(rng, plan.nowMs);
  const limits: TimeLimits = {
    nowMs: plan.nowMs,
    lateHorizonMs: plan.lateHorizonMs,
    maxFutureSkewMs: plan.maxFutureSkewMs,
  };
  const mutation = mutateAvro(rng, kind, base, limits, { maxBytes: plan.maxRecordBytes });
  return { index, base, ...mutation, valid: classifyAvro(mutation.bytes).valid };
}

export function jsonCase(plan: FuzzPlan, index: number): JsonCase {
  const rng = createRng(plan.seed).fork(`http:${index}`);
  const kind = JSON_KINDS[index % JSON_KINDS.length]!;
  const base = baseEvent(rng, plan.nowMs);
  const mutation = mutateJson(rng, kind, base, plan.body);
  const verdict = classifyJsonBody(mutation.body, { ...plan.body, keyId: FUZZ_KEY_ID });
  return { index, base, ...mutation, valid: verdict.accept };
}
