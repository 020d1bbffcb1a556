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

/**
 * Mean quality_score (an evaluator's 0..1 grade) per workflow and model, so the overview's routing
 * view has something to show: for support-chat and doc-summarizer a cheaper model does about as well.
 */
const QUALITY: Record<string, Record<string, number>> = {
  'support-chat': {
    'gpt-4o-mini': 0.89,
    'gpt-4.1': 0.9,
    'claude-sonnet-4-5': 0.92,
    'gemini-2.5-flash': 0.88,
  },
  'doc-summarizer': {
    'gpt-4o-mini': 0.78,
    'gpt-4.1': 0.9,
    'claude-sonnet-4-5': 0.91,
    'gemini-2.5-flash': 0.89,
  },
  'code-review-agent': {
    'gpt-4o-mini': 0.6,
    'gpt-4.1': 0.84,
    'claude-sonnet-4-5': 0.9,
    'gemini-2.5-flash': 0.74,
  },
};

export interface DemoEvent {
  customer_ref: string;
  workflow: string;
  workflow_run_id: string;
  step_id: string;
  parent_step_id: string | null;
  depth: number;
  attempt: number;
  feature: string;
  provider: string;
  model: string;
  tokens: { input: number; cached_input: number; cache_write: number; output: number; reasoning: number };
  latency_ms: number;
  quality_score?: number;
}

const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)]!;
const between = ([lo, hi]: number[], random: () => number) => Math.floor(lo! + random() * (hi! - lo!));

/** One workflow run: a root step and nested child steps, as an agent would produce them. */
export function demoRun(
  random: () => number = Math.random,
  only?: { customer_ref: string; workflow: string; model?: DemoModel },
): DemoEvent[] {
  const weighted = [...DEMO_CUSTOMERS.flatMap((c) => Array(c.weight).fill(c.customer_ref)), UNMAPPED_REF];
  const customer_ref = only?.customer_ref ?? (pick(weighted, random) as string);
  const w = only ? WORKFLOWS.find((x) => x.workflow === only.workflow)! : pick(WORKFLOWS, random);
  const m = only?.model ?? (random() < 0.03 ? MODELS[4]! : pick(MODELS.slice(0, 4), random));
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
      attempt: 1,
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
      ...quality(w.workflow, m.model, random),
    };
  });
}

/** A graded call: the model's mean for the workflow ± 0.03, two decimals (none for unlisted models). */
function quality(workflow: string, model: string, random: () => number): { quality_score?: number } {
  const mean = QUALITY[workflow]?.[model];
  if (mean === undefined) return {};
  return { quality_score: Math.round(Math.min(1, Math.max(0, mean + (random() - 0.5) * 0.06)) * 100) / 100 };
}

/**
 * Usage from earlier in the billing period, so the demo starts where a real month would be: Whale
 * Labs has already run several times what its $200 flat plan pays, the others a modest amount. It
 * lands between `fromMs` and an hour ago, and is emitted once per local state directory.
 */
export function demoBacklog(
  fromMs: number,
  nowMs: number,
  random: () => number = Math.random,
): Array<DemoEvent & { occurred_at: number }> {
  const toMs = nowMs - 3_600_000;
  if (toMs <= fromMs) return [];
  const when = () => Math.floor(fromMs + random() * (toMs - fromMs));
  const runs: DemoEvent[][] = [
    // Whale Labs: a code-review agent on Claude Sonnet, all month — several times its $200 plan.
    ...Array.from({ length: 280 }, () =>
      demoRun(random, { customer_ref: 'org_whale', workflow: 'code-review-agent', model: MODELS[2]! }),
    ),
    ...Array.from({ length: 300 }, () => demoRun(random)).filter((r) => r[0]!.customer_ref !== 'org_whale'),
  ];
  return runs.flatMap((run) => {
    const at = when();
    return run.map((e, i) => ({ ...e, occurred_at: at + i * 1_500 }));
  });
}

/**
 * One step of an agent stuck in a loop: the same research step again and again, retried every fifth
 * time and nesting slowly deeper — past the runaway cap of 50 steps well before the others.
 */
export function loopingRun(step: number, runId: string): DemoEvent {
  return {
    customer_ref: 'org_acme',
    workflow: 'research-agent',
    workflow_run_id: runId,
    step_id: `${runId}.s${step}`,
    parent_step_id: step === 0 ? null : `${runId}.s${step - 1}`,
    depth: Math.floor(step / 8),
    attempt: step % 5 === 4 ? 2 : 1,
    feature: 'research',
    provider: 'openai',
    model: 'gpt-4.1',
    tokens: { input: 6_000 + step * 400, cached_input: 2_000, cache_write: 0, output: 600, reasoning: 0 },
    latency_ms: 900,
  };
}
