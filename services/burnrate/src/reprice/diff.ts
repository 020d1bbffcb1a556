import { BurnrateError } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import type { PricingReference } from '../pricing/reference-files.js';
import { scanFacts } from './facts.js';
import type { FactFilter } from './options.js';
import { type FactRow, repriceFact } from './price-fact.js';

/** What the facts of one provider, model and customer cost under reference A and under B. */
export interface DiffLine {
  provider: string;
  model: string;
  customer_id: string;
  facts: number;
  cost_a_nanos: bigint;
  cost_b_nanos: bigint;
  unpriced_a: number;
  unpriced_b: number;
}

export interface CatalogDiff {
  lines: DiffLine[];
  /** Facts that could not be priced (e.g. a count beyond 2^53); left out of both sums. */
  failed: number;
  firstFailure: string | undefined;
}

/** Adds one fact priced under A and B to its line (pure; the scan below feeds it). */
export function addToDiff(
  lines: Map<string, DiffLine>,
  row: FactRow,
  a: PricingReference,
  b: PricingReference,
): void {
  const underA = repriceFact(row, a);
  const underB = repriceFact(row, b);
  const key = `${row.provider}\u0000${row.model}\u0000${row.customer_id}`;
  let line = lines.get(key);
  if (!line) {
    line = {
      provider: row.provider,
      model: row.model,
      customer_id: row.customer_id,
      facts: 0,
      cost_a_nanos: 0n,
      cost_b_nanos: 0n,
      unpriced_a: 0,
      unpriced_b: 0,
    };
    lines.set(key, line);
  }
  line.facts++;
  line.cost_a_nanos += underA.cost_total_nanos;
  line.cost_b_nanos += underB.cost_total_nanos;
  line.unpriced_a += underA.unpriced;
  line.unpriced_b += underB.unpriced;
}

/**
 * What the facts in `filter` would cost under catalog A and under catalog B: the reprice dry run's
 * scan and pricing (scanFacts + repriceFact, exactly as enrichment prices), summed twice. Reads only.
 */
export async function diffReferences(
  client: ClickHouseClient,
  database: string,
  filter: FactFilter,
  references: { a: PricingReference; b: PricingReference },
  chunkRows = 10_000,
): Promise<CatalogDiff> {
  const lines = new Map<string, DiffLine>();
  let failed = 0;
  let firstFailure: string | undefined;
  for await (const rows of scanFacts(client, database, filter, chunkRows)) {
    for (const row of rows) {
      try {
        addToDiff(lines, row, references.a, references.b);
      } catch (error) {
        if (!(error instanceof BurnrateError)) throw error;
        failed++;
        firstFailure ??= `event ${row.event_id}: ${error.message}`;
      }
    }
  }
  return { lines: [...lines.values()], failed, firstFailure };
}

/** Lines summed by model (provider and model) or by customer, largest change first. */
export function rollUpDiff(lines: readonly DiffLine[], by: 'model' | 'customer'): DiffLine[] {
  const groups = new Map<string, DiffLine>();
  for (const line of lines) {
    const key = by === 'model' ? `${line.provider}\u0000${line.model}` : line.customer_id;
    const group = groups.get(key) ?? {
      ...line,
      provider: by === 'model' ? line.provider : '',
      model: by === 'model' ? line.model : '',
      customer_id: by === 'customer' ? line.customer_id : '',
      facts: 0,
      cost_a_nanos: 0n,
      cost_b_nanos: 0n,
      unpriced_a: 0,
      unpriced_b: 0,
    };
    group.facts += line.facts;
    group.cost_a_nanos += line.cost_a_nanos;
    group.cost_b_nanos += line.cost_b_nanos;
    group.unpriced_a += line.unpriced_a;
    group.unpriced_b += line.unpriced_b;
    groups.set(key, group);
  }
  const change = (line: DiffLine) => {
    const d = line.cost_b_nanos - line.cost_a_nanos;
    return d < 0n ? -d : d;
  };
  return [...groups.values()].sort((x, y) => {
    const dx = change(x);
    const dy = change(y);
    return dx === dy ? 0 : dx > dy ? -1 : 1;
  });
}
