import type { UsageEvent } from '@burnrate/core';
import type { Rng } from './rng.js';

/** The customers the fuzz publishes before it sends events: one mapped ref, the others stay unmapped. */
export const FUZZ_CUSTOMERS = [
  {
    customer_ref: 'org_acme',
    customer_id: 'acme',
    name: 'Acme',
    team: 'growth',
    plan: { kind: 'flat_rate', revenue_nanos: '200000000000', currency: 'USD' },
    monthly_budget_nanos: '150000000000',
    billing_anchor_day: 1,
  },
  {
    customer_ref: 'org_globex',
    customer_id: 'globex',
    name: 'Globex',
    team: 'enterprise',
    plan: { kind: 'usage_based', revenue_nanos: '0', currency: 'USD' },
    monthly_budget_nanos: '50000000000',
    billing_anchor_day: 15,
  },
];

/** Priced and unpriced provider/model pairs, with tiers (long context) and per-call fees among them. */
const MODELS: ReadonlyArray<readonly [string, string]> = [
  ['openai', 'gpt-4o-mini'],
  ['openai', 'gpt-4.1'],
  ['openai', 'o4-mini'],
  ['anthropic', 'claude-sonnet-4-5'],
  ['anthropic', 'claude-haiku-4-5'],
  ['google', 'gemini-2.5-pro'],
  ['mistral', 'mistral-small-latest'],
  ['acme-labs', 'acme-finetune-v1'],
];
const CUSTOMERS = ['org_acme', 'org_globex', 'org_nobody', 'org_ünïcode'];
const STEP_KINDS = ['llm_call', 'tool_call', 'embedding', 'retry', 'eval', 'other', 'rerank'] as const;
const STATUSES = ['ok', 'error', 'timeout', 'cancelled', 'other'] as const;

/**
 * A valid usage event that happened within the last hour before `nowMs` (inside every late horizon),
 * with a fresh event_id, so every fuzz case starts from its own id and a duplicate is never an accident
 * of the generator. About half carry the optional fields and tags; a few are written as schema v1.
 */
export function baseEvent(rng: Rng, nowMs: number): UsageEvent {
  const [provider, model] = rng.pick(MODELS);
  const full = rng.chance(0.5);
  const tags: Record<string, string> = {};
  const tagCount = full ? rng.between(1, 4) : 0;
  for (let i = 0; i < tagCount; i++)
    tags[rng.pick(['region', 'env', 'tier', 'team', 'exp'])] = `v${rng.int(100)}`;
  const input = rng.chance(0.1) ? rng.between(200_001, 400_000) : rng.between(0, 20_000);
  const event: UsageEvent = {
    event_id: rng.uuid(),
    occurred_at: nowMs - rng.between(1_000, 3_600_000),
    service: rng.pick(['support-bot', 'search', 'agent-runner']),
    customer_ref: rng.pick(CUSTOMERS),
    user_ref: full ? `user-${rng.int(1000)}` : null,
    workflow: full ? rng.pick(['triage', 'research-agent', 'summarize']) : null,
    workflow_run_id: full ? `run-${rng.int(1_000_000)}` : null,
    step_id: full ? `step-${rng.int(100)}` : null,
    parent_step_id: full && rng.chance(0.5) ? `step-${rng.int(100)}` : null,
    step_kind: rng.pick(STEP_KINDS),
    depth: rng.between(0, 5),
    attempt: rng.between(1, 3),
    feature: full ? rng.pick(['chat', 'smart-reply', 'search']) : null,
    provider,
    model,
    tokens: {
      input,
      cached_input: rng.chance(0.3) ? rng.between(0, 50_000) : 0,
      cache_write: rng.chance(0.2) ? rng.between(0, 10_000) : 0,
      output: rng.between(0, 8_000),
      reasoning: rng.chance(0.3) ? rng.between(0, 4_000) : 0,
    },
    requests: rng.between(1, 3),
    units: {
      images: rng.chance(0.1) ? rng.between(1, 4) : 0,
      audio_ms: rng.chance(0.1) ? rng.between(1, 60_000) : 0,
      web_search_calls: rng.chance(0.2) ? rng.between(1, 5) : 0,
    },
    latency_ms: full ? rng.between(10, 60_000) : null,
    status: rng.pick(STATUSES),
    provider_reported_cost_nanos: full && rng.chance(0.5) ? rng.between(0, 10_000_000) : null,
    quality_score: full && rng.chance(0.5) ? rng.int(1001) / 1000 : null,
    tags,
    environment: full ? rng.pick(['production', 'staging']) : null,
    request_id: full && rng.chance(0.5) ? `req_${rng.bytes(8).toString('hex')}` : null,
  };
  return event;
}
