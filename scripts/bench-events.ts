import { newEventId, type UsageEvent } from '@burnrate/core';

const MODELS = ['gpt-4o-mini', 'gpt-4.1', 'o4-mini'];

/** A realistic event for benchmarks: 500 customers, 20 workflows, three OpenAI models, tags. */
export function benchEvent(i: number): UsageEvent {
  return {
    event_id: newEventId(),
    occurred_at: Date.now() - 60_000,
    service: 'bench',
    customer_ref: `org_${i % 500}`,
    user_ref: `u${i % 5000}`,
    workflow: `wf-${i % 20}`,
    workflow_run_id: `run-${Math.floor(i / 8)}`,
    step_id: `s${i}`,
    parent_step_id: null,
    step_kind: 'llm_call',
    depth: i % 4,
    attempt: 1,
    feature: `f${i % 10}`,
    provider: 'openai',
    model: MODELS[i % 3]!,
    tokens: {
      input: 1200 + (i % 900),
      cached_input: 300,
      cache_write: 0,
      output: 250,
      reasoning: i % 3 === 2 ? 120 : 0,
    },
    requests: 1,
    units: { images: 0, audio_ms: 0, web_search_calls: 0 },
    latency_ms: 800,
    status: 'ok',
    provider_reported_cost_nanos: null,
    quality_score: null,
    tags: { region: 'eu' },
  };
}
