/**
 * Deterministic-looking demo traffic for `npm start`: a handful of customers on different plans,
 * agent workflows with nested steps, several providers, one model missing from the catalog (so the
 * unpriced path is visible) and one customer_ref nobody mapped (so `unmapped:` is visible).
 */
export interface DemoCustomer {
  customer_ref: string;
  customer_id: string;
  name: string;
  team: string;
  plan: { kind: 'flat_rate' | 'usage_based' | 'enterprise'; revenue_usd: string };
  monthly_budget_usd: string;
  /** Relative traffic weight. */
  weight: number;
}

export const DEMO_CUSTOMERS: DemoCustomer[] = [
  {
    customer_ref: 'org_acme',
    customer_id: 'acme',
    name: 'Acme Corp',
    team: 'growth',
    plan: { kind: 'flat_rate', revenue_usd: '200' },
    monthly_budget_usd: '150',
    weight: 3,
  },
  {
    customer_ref: 'org_globex',
    customer_id: 'globex',
    name: 'Globex',
    team: 'platform',
    plan: { kind: 'usage_based', revenue_usd: '0' },
    monthly_budget_usd: '1000',
    weight: 2,
  },
  {
    customer_ref: 'org_initech',
    customer_id: 'initech',
    name: 'Initech',
    team: 'enterprise',
    plan: { kind: 'enterprise', revenue_usd: '5000' },
    monthly_budget_usd: '4000',
    weight: 1,
  },
  {
    customer_ref: 'org_whale',
    customer_id: 'whale',
    name: 'Whale Labs',
    team: 'growth',
    plan: { kind: 'flat_rate', revenue_usd: '200' },
    monthly_budget_usd: '150',
    weight: 4,
  },
];

export const UNMAPPED_REF = 'org_stranger';

interface DemoModel {
  provider: string;
  model: string;
}

const MODELS: DemoModel[] = [
  { provider: 'openai', model: 'gpt-4o-mini' },
  { provider: 'openai', model: 'gpt-4.1' },
  { provider: 'anthropic', model: 'claude-sonnet-4-5' },
  { provider: 'google', model: 'gemini-2.5-flash' },
  { provider: 'acme-labs', model: 'acme-finetune-v1' },
];

const WORKFLOWS = [
  { workflow: 'support-chat', feature: 'chat', steps: 1, input: [50, 500], output: [30, 300] },
  { workflow: 'doc-summarizer', feature: 'summaries', steps: 2, input: [2_000, 6_000], output: [200, 800] },
  {
    workflow: 'code-review-agent',
    feature: 'code-review',
    steps: 5,
    input: [10_000, 60_000],
    output: [500, 4_000],
  },
];

export interface DemoEvent {
  customer_ref: string;
  workflow: string;
  workflow_run_id: string;
  step_id: string;
  parent_step_id: string | null;
  depth: number;
  feature: string;
  provider: string;
  model: string;
  tokens: { input: number; cached_input: number; cache_write: number; output: number; reasoning: number };
  latency_ms: number;
}

const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)]!;
const between = ([lo, hi]: number[], random: () => number) => Math.floor(lo! + random() * (hi! - lo!));

/** One workflow run: a root step and nested child steps, as an agent would produce them. */
export function demoRun(random: () => number = Math.random): DemoEvent[] {
  const weighted = [...DEMO_CUSTOMERS.flatMap((c) => Array(c.weight).fill(c.customer_ref)), UNMAPPED_REF];
  const customer_ref = pick(weighted, random) as string;
  const w = pick(WORKFLOWS, random);
  const m = random() < 0.03 ? MODELS[4]! : pick(MODELS.slice(0, 4), random);
  const runId = `run_${Math.floor(random() * 1e12).toString(36)}`;
  const whale = customer_ref === 'org_whale' ? 8 : 1;
  return Array.from({ length: w.steps }, (_, i) => {
    const input = between(w.input, random) * whale;
    const cached = Math.floor(input * (i > 0 ? 0.6 : 0.1));
    return {
      customer_ref,
      workflow: w.workflow,
      workflow_run_id: runId,
      step_id: `${runId}.s${i}`,
      parent_step_id: i === 0 ? null : `${runId}.s0`,
      depth: i === 0 ? 0 : 1,
      feature: w.feature,
      provider: m.provider,
      model: m.model,
      tokens: {
        input: input - cached,
        cached_input: cached,
        cache_write: m.provider === 'anthropic' && i === 0 ? Math.floor(input * 0.2) : 0,
        output: between(w.output, random),
        reasoning: m.model.startsWith('gpt-4.1') ? 0 : Math.floor(random() * 200),
      },
      latency_ms: 200 + Math.floor(random() * 3_000),
    };
  });
}
