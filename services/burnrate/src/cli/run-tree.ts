import type { RunStep } from './money-queries.js';

/** A step with the steps whose parent_step_id names it, and its own cost plus theirs. */
export interface StepNode {
  step: RunStep;
  children: StepNode[];
  subtree_cost_nanos: bigint;
}

/**
 * The steps of a run as a forest: a step whose parent is empty or not among the run's steps is a
 * root. A cycle in parent_step_id (bad data) cannot loop: each step is placed once, under the first
 * parent reached from a root; steps on a cycle unreachable from any root become roots.
 */
export function buildRunTree(steps: RunStep[]): StepNode[] {
  const byId = new Map(steps.map((s) => [s.step_id, s]));
  const children = new Map<string, RunStep[]>();
  for (const s of steps) {
    if (s.parent_step_id === '' || !byId.has(s.parent_step_id) || s.parent_step_id === s.step_id) continue;
    const list = children.get(s.parent_step_id) ?? [];
    list.push(s);
    children.set(s.parent_step_id, list);
  }
  const placed = new Set<string>();
  const node = (step: RunStep): StepNode => {
    placed.add(step.step_id);
    const kids = (children.get(step.step_id) ?? []).filter((c) => !placed.has(c.step_id)).map(node);
    return {
      step,
      children: kids,
      subtree_cost_nanos: kids.reduce((sum, k) => sum + k.subtree_cost_nanos, step.cost_nanos),
    };
  };
  const isRoot = (s: RunStep) =>
    s.parent_step_id === '' || !byId.has(s.parent_step_id) || s.parent_step_id === s.step_id;
  const roots = steps.filter(isRoot).map(node);
  for (const s of steps) if (!placed.has(s.step_id)) roots.push(node(s));
  return roots;
}

/** Depth-first lines: the tree drawn in front of each step id (├─, └─, │). */
export function flattenTree(roots: StepNode[]): Array<{ prefix: string; node: StepNode }> {
  const out: Array<{ prefix: string; node: StepNode }> = [];
  const walk = (nodes: StepNode[], indent: string, top: boolean) => {
    nodes.forEach((n, i) => {
      const last = i === nodes.length - 1;
      out.push({ prefix: top ? '' : `${indent}${last ? '└─ ' : '├─ '}`, node: n });
      walk(n.children, top ? '' : `${indent}${last ? '   ' : '│  '}`, false);
    });
  };
  walk(roots, '', true);
  return out;
}
