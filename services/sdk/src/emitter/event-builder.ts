import {
  type BillableUnits,
  type EventStatus,
  newEventId,
  type StepKind,
  type TokenUsage,
  type UsageEvent,
  ValidationError,
  validateUsageEvent,
} from '@burnrate/core';
import { currentContext } from '../context/workflow-context.js';

/**
 * What emit() takes: a UsageEvent with everything but customer_ref, provider and model optional.
 * Spread a provider adapter's result in for provider, model, tokens, units and tags.
 */
export interface EmitInput {
  /** Who caused the cost; the Kafka message key. Taken from withWorkflow({ customerRef }) when absent. */
  customer_ref?: string;
  provider: string;
  model: string;
  /** Exclusive buckets; absent buckets are 0. */
  tokens?: Partial<TokenUsage>;
  units?: Partial<BillableUnits>;
  /** Set it only to re-emit an event (same id, deduplicated downstream); made fresh otherwise. */
  event_id?: string;
  /** Epoch milliseconds; now when absent. */
  occurred_at?: number;
  service?: string;
  user_ref?: string | null;
  workflow?: string | null;
  workflow_run_id?: string | null;
  step_id?: string | null;
  parent_step_id?: string | null;
  /** Default: the enclosing step's kind, else 'llm_call'. */
  step_kind?: StepKind;
  depth?: number;
  attempt?: number;
  feature?: string | null;
  /** Provider API requests this event covers. Default 1. */
  requests?: number;
  latency_ms?: number | null;
  /** Default 'ok'. */
  status?: EventStatus;
  provider_reported_cost_nanos?: number | null;
  quality_score?: number | null;
  tags?: Record<string, string>;
  environment?: string | null;
  /** The provider's id for the API request, for reconciliation. */
  request_id?: string | null;
}

export interface EventDefaults {
  service: string;
  environment: string | null;
}

const NO_TAGS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * Fills defaults and the workflow context, then validates. The event object is built with one
 * fixed field order, so every event has the same hidden class and the encoder stays monomorphic.
 * Explicit input wins over the context, field by field.
 *
 * @throws ValidationError naming the first offending field.
 */
export function buildEvent(input: EmitInput, defaults: EventDefaults): UsageEvent {
  if (typeof input !== 'object' || input === null) {
    throw new ValidationError(
      'event',
      'emit() takes an object with at least customer_ref, provider and model.',
    );
  }
  const ctx = currentContext();
  const t = input.tokens;
  const u = input.units;
  const event: UsageEvent = {
    event_id: input.event_id ?? newEventId(),
    occurred_at: input.occurred_at ?? Date.now(),
    service: input.service ?? defaults.service,
    customer_ref: (input.customer_ref ?? ctx?.customerRef) as string,
    user_ref: input.user_ref !== undefined ? input.user_ref : (ctx?.userRef ?? null),
    workflow: input.workflow !== undefined ? input.workflow : (ctx?.workflow ?? null),
    workflow_run_id:
      input.workflow_run_id !== undefined ? input.workflow_run_id : (ctx?.workflowRunId ?? null),
    step_id: input.step_id !== undefined ? input.step_id : (ctx?.stepId ?? null),
    parent_step_id: input.parent_step_id !== undefined ? input.parent_step_id : (ctx?.parentStepId ?? null),
    step_kind: input.step_kind ?? ctx?.stepKind ?? 'llm_call',
    depth: input.depth ?? ctx?.depth ?? 0,
    attempt: input.attempt ?? ctx?.attempt ?? 1,
    feature: input.feature !== undefined ? input.feature : (ctx?.feature ?? null),
    provider: input.provider,
    model: input.model,
    tokens: {
      input: t?.input ?? 0,
      cached_input: t?.cached_input ?? 0,
      cache_write: t?.cache_write ?? 0,
      output: t?.output ?? 0,
      reasoning: t?.reasoning ?? 0,
    },
    requests: input.requests ?? 1,
    units: { images: u?.images ?? 0, audio_ms: u?.audio_ms ?? 0, web_search_calls: u?.web_search_calls ?? 0 },
    latency_ms: input.latency_ms ?? null,
    status: input.status ?? 'ok',
    provider_reported_cost_nanos: input.provider_reported_cost_nanos ?? null,
    quality_score: input.quality_score ?? null,
    // Copied: the event is encoded later, at batch time, and must not see the caller's later edits.
    tags: input.tags ? { ...input.tags } : NO_TAGS,
    environment: input.environment !== undefined ? input.environment : defaults.environment,
    request_id: input.request_id ?? null,
  };
  return validateUsageEvent(event);
}
