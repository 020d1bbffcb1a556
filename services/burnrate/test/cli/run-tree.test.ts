import { describe, expect, it } from 'vitest';
import type { RunStep } from '../../src/cli/money-queries.js';
import { buildRunTree, flattenTree } from '../../src/cli/run-tree.js';

function step(step_id: string, parent_step_id: string, cost: bigint): RunStep {
  return {
    step_id,
    parent_step_id,
    step_kind: 'llm_call',
    depth: 0,
    attempts: 1,
    models: [],
    calls: 1n,
    tokens: { input: 0n, cached_input: 0n, cache_write: 0n, output: 0n, reasoning: 0n },
    cost_nanos: cost,
    started_at: '',
  };
}

describe('buildRunTree', () => {
  it('hangs steps under their parents and sums subtrees exactly', () => {
    const roots = buildRunTree([
      step('a', '', 1n),
      step('b', 'a', 2n),
      step('c', 'b', 4n),
      step('d', 'gone', 8n),
    ]);
    expect(roots.map((r) => [r.step.step_id, r.subtree_cost_nanos])).toEqual([
      ['a', 7n],
      ['d', 8n],
    ]);
    expect(flattenTree(roots).map((l) => `${l.prefix}${l.node.step.step_id}`)).toEqual([
      'a',
      '└─ b',
      '   └─ c',
      'd',
    ]);
  });

  it('places every step once even when parent_step_id loops', () => {
    const roots = buildRunTree([step('x', 'y', 1n), step('y', 'x', 2n), step('self', 'self', 4n)]);
    const ids = flattenTree(roots).map((l) => l.node.step.step_id);
    expect(ids.sort()).toEqual(['self', 'x', 'y']);
    expect(roots.reduce((s, r) => s + r.subtree_cost_nanos, 0n)).toBe(7n);
  });
});
