import type { UsageEvent } from '@burnrate/core';
import { AVRO_KINDS, type AvroMutation, mutateAvro, type TimeLimits } from './avro-mutations.js';
import { baseEvent } from './base-events.js';
import { type BodyLimits, JSON_KINDS, type JsonMutation, mutateJson } from './json-mutations.js';
import { createRng } from './rng.js';

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
}

export interface JsonCase extends JsonMutation {
  index: number;
  base: UsageEvent;
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
  return { index, base, ...mutateAvro(rng, kind, base, limits, { maxBytes: plan.maxRecordBytes }) };
}

export function jsonCase(plan: FuzzPlan, index: number): JsonCase {
  const rng = createRng(plan.seed).fork(`http:${index}`);
  const kind = JSON_KINDS[index % JSON_KINDS.length]!;
  const base = baseEvent(rng, plan.nowMs);
  return { index, base, ...mutateJson(rng, kind, base, plan.body) };
}
