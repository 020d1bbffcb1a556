import { ValidationError } from '@burnrate/core';
import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { loadCatalogFile, loadReference } from '../pricing/reference-files.js';
import { type DiffLine, diffReferences, rollUpDiff } from '../reprice/diff.js';
import { openReadDb } from './kit/clickhouse.js';
import { type CliOutput, processOutput, renderTable, toJson, usd } from './kit/output.js';
import { resolvePeriod, withPeriodOptions } from './kit/period.js';
import { CommandExit } from './program.js';

function signed(nanos: bigint): string {
  return nanos < 0n ? `-${usd(-nanos)}` : `${nanos > 0n ? '+' : ''}${usd(nanos)}`;
}

const jsonLine = (line: DiffLine) => ({
  ...line,
  delta_nanos: line.cost_b_nanos - line.cost_a_nanos,
});

/**
 * `burnrate prices diff A B`: what the period's facts cost under catalog A and under catalog B,
 * per model or per customer — the reprice dry run's pricing, run twice, writing nothing.
 */
export function createPricesDiffCommand(
  output: CliOutput = processOutput,
  env: NodeJS.ProcessEnv = process.env,
  now = () => Date.now(),
): Command {
  return withPeriodOptions(
    new Command('diff')
      .description(
        "what the period's facts cost under catalog A and under catalog B (default: the last 30 days)",
      )
      .argument('<a>', 'catalog file A (the one in force, usually)')
      .argument('<b>', 'catalog file B (the candidate)'),
  )
    .option('--by <what>', 'model or customer', 'model')
    .option('--overrides <file>', 'per-customer overrides for both sides (default: BURNRATE_OVERRIDES_FILE)')
    .option('--json', 'print JSON, exact nano-USD as strings')
    .action(
      async (
        a: string,
        b: string,
        flags: { from?: string; to?: string; by: string; overrides?: string; json?: boolean },
      ) => {
        if (flags.by !== 'model' && flags.by !== 'customer') {
          throw new ValidationError(
            '--by',
            `--by must be model or customer, got "${flags.by}".`,
            'invalid_argument',
          );
        }
        const period = resolvePeriod(flags, now());
        const config = loadConfig(env);
        const { overrides } = loadReference({ overridesFile: flags.overrides }, config);
        const refA = { prices: loadCatalogFile(a, 'A'), overrides };
        const refB = { prices: loadCatalogFile(b, 'B'), overrides };
        // Read-only: a running burnrate's HTTP interface when it owns chDB; nothing is migrated.
        const db = await openReadDb(config);
        let diff: Awaited<ReturnType<typeof diffReferences>>;
        try {
          diff = await diffReferences(db.client, db.database, period, { a: refA, b: refB });
        } finally {
          await db.close();
        }
        const lines = rollUpDiff(diff.lines, flags.by);
        const [total] = rollUpDiff(
          diff.lines.map((line) => ({ ...line, customer_id: '' })),
          'customer',
        );
        const from = new Date(period.fromMs).toISOString();
        const to = new Date(period.toMs).toISOString();
        if (flags.json) {
          output.out(
            toJson({
              from,
              to,
              a: { file: a, catalog: refA.prices.version },
              b: { file: b, catalog: refB.prices.version },
              overrides: overrides.version,
              by: flags.by,
              lines: lines.map(jsonLine),
              total: total ? jsonLine(total) : null,
              failed: diff.failed,
            }),
          );
        } else {
          output.out(
            `${from} .. ${to}: A = ${a} (catalog ${refA.prices.version}), B = ${b} (catalog ${refB.prices.version}), overrides ${overrides.version}\n`,
          );
          const first =
            flags.by === 'model'
              ? [{ title: 'provider' }, { title: 'model', maxChars: 40 }]
              : [{ title: 'customer', maxChars: 40 }];
          const rows = [
            ...lines,
            ...(total ? [{ ...total, provider: 'total', model: '', customer_id: 'total' }] : []),
          ];
          output.out(
            renderTable(
              [
                ...first,
                { title: 'facts', align: 'right' },
                { title: 'cost A', align: 'right' },
                { title: 'cost B', align: 'right' },
                { title: 'B − A', align: 'right' },
                { title: 'unpriced A', align: 'right' },
                { title: 'unpriced B', align: 'right' },
              ],
              rows.map((line) => [
                ...(flags.by === 'model' ? [line.provider, line.model] : [line.customer_id]),
                line.facts.toLocaleString('en-US'),
                usd(line.cost_a_nanos),
                usd(line.cost_b_nanos),
                signed(line.cost_b_nanos - line.cost_a_nanos),
                String(line.unpriced_a),
                String(line.unpriced_b),
              ]),
            ),
          );
        }
        if (diff.failed > 0) {
          output.err(
            `burnrate prices: ${diff.failed} facts could not be priced and are left out; the first: ${diff.firstFailure}\n`,
          );
          throw new CommandExit(1);
        }
      },
    );
}
