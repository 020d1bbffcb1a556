import { ValidationError } from '@burnrate/core';
import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { withReadDb } from './kit/clickhouse.js';
import { withListOptions } from './kit/options.js';
import { type CliOutput, count, processOutput, renderTable, toJson, usd } from './kit/output.js';
import { type Period, resolvePeriod, withPeriodOptions } from './kit/period.js';
import { periodJson } from './margin.js';
import { type RunSummary, runSteps, topRuns } from './money-queries.js';
import { buildRunTree, flattenTree, type StepNode } from './run-tree.js';

const DEFAULT_LIMIT = 20;

type PeriodOptions = { from?: string; to?: string };

/** `burnrate runs`: the most expensive workflow runs; `runs show <id>`: one run as a tree of steps. */
export function createRunsCommand(output: CliOutput = processOutput): Command {
  const runs = new Command('runs').description(
    'the most expensive workflow runs, or one run as a tree of steps',
  );
  withListOptions(
    withPeriodOptions(
      runs.command('list', { isDefault: true }).description('the most expensive workflow runs'),
    ),
    DEFAULT_LIMIT,
  ).action(async (o: PeriodOptions & { limit?: number; json?: boolean }) => {
    const period = resolvePeriod(o, Date.now());
    const rows = await withReadDb(loadConfig(), (db) => topRuns(db, period, o.limit ?? DEFAULT_LIMIT));
    output.out(o.json ? toJson(periodJson(period, rows)) : runsTable(rows));
  });
  withPeriodOptions(
    runs
      .command('show')
      .description('one run: its steps as a tree (parent_step_id), with the cost of each')
      .argument('<run id>', 'a workflow_run_id, as `burnrate runs` lists them'),
    90,
  )
    .option('--json', 'print JSON: the tree, money as exact nano-USD strings')
    .action(async (runId: string, o: PeriodOptions & { json?: boolean }) => {
      const period = resolvePeriod(o, Date.now(), 90);
      const steps = await withReadDb(loadConfig(), (db) => runSteps(db, runId, period));
      if (steps.length === 0) throw noSuchRun(runId, period);
      const tree = buildRunTree(steps);
      output.out(o.json ? toJson({ workflow_run_id: runId, steps: tree }) : treeTable(runId, tree));
    });
  return runs;
}

function noSuchRun(runId: string, period: Period): ValidationError {
  return new ValidationError(
    'run id',
    `There is no workflow run "${runId.slice(0, 80)}" between ${new Date(period.fromMs).toISOString()} and ${new Date(period.toMs).toISOString()}: pick one from \`burnrate runs\`, or widen --from/--to.`,
    'invalid_argument',
  );
}

function runsTable(rows: RunSummary[]): string {
  if (rows.length === 0) return 'No workflow runs in this period.\n';
  return renderTable(
    [
      { title: 'RUN', maxChars: 40 },
      { title: 'WORKFLOW', maxChars: 30 },
      { title: 'CUSTOMER', maxChars: 30 },
      { title: 'STEPS', align: 'right' },
      { title: 'DEPTH', align: 'right' },
      { title: 'CALLS', align: 'right' },
      { title: 'TOKENS', align: 'right' },
      { title: 'COST', align: 'right' },
      { title: 'STARTED' },
    ],
    rows.map((r) => [
      r.workflow_run_id,
      r.workflow,
      r.customer_id,
      count(r.steps),
      String(r.max_depth),
      count(r.calls),
      count(Object.values(r.tokens).reduce((a, b) => a + b, 0n)),
      usd(r.cost_nanos),
      r.started_at.replace(/\.\d{3}Z$/, 'Z'),
    ]),
  );
}

function treeTable(runId: string, roots: StepNode[]): string {
  const lines = flattenTree(roots);
  const total = roots.reduce((sum, r) => sum + r.subtree_cost_nanos, 0n);
  const table = renderTable(
    [
      { title: 'STEP', keepSpaces: true, maxChars: 80 },
      { title: 'KIND' },
      { title: 'MODEL', maxChars: 30 },
      { title: 'ATTEMPTS', align: 'right' },
      { title: 'TOKENS', align: 'right' },
      { title: 'COST', align: 'right' },
      { title: 'WITH SUBSTEPS', align: 'right' },
    ],
    lines.map(({ prefix, node: { step, subtree_cost_nanos } }) => [
      `${prefix}${step.step_id}`,
      step.step_kind,
      step.models.join(', '),
      String(step.attempts),
      count(Object.values(step.tokens).reduce((a, b) => a + b, 0n)),
      usd(step.cost_nanos),
      usd(subtree_cost_nanos),
    ]),
  );
  return `Run ${runId}: ${lines.length} step${lines.length === 1 ? '' : 's'}, ${usd(total)}\n\n${table}`;
}
