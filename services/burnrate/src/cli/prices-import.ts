import {
  ConfigError,
  importLiteLlmPrices,
  type LiteLlmSkipKind,
  PriceCatalog,
  ValidationError,
} from '@burnrate/core';
import { Command } from 'commander';
import { inFile, readReferenceDocument } from '../pricing/reference-files.js';
import { writeFileAtomically } from './kit/atomic-file.js';
import { type CliOutput, processOutput, renderTable, toJson } from './kit/output.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const list = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
];

function date(flag: string, value: string): string {
  if (!DATE.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw new ValidationError(flag, `${flag} must be a date YYYY-MM-DD, got "${value}".`, 'invalid_argument');
  }
  return value;
}

/**
 * `burnrate prices import-litellm FILE`: LiteLLM's model_prices_and_context_window.json → a catalog
 * file. Entries it cannot represent are counted by reason; a $0 entry stays out unless `--free`.
 */
export function createPricesImportCommand(
  output: CliOutput = processOutput,
  now = () => Date.now(),
): Command {
  return new Command('import-litellm')
    .description("convert LiteLLM's model_prices_and_context_window.json into a price catalog")
    .argument('<file>', "LiteLLM's model_prices_and_context_window.json")
    .option('--out <file>', 'write the catalog here (default: stdout, and the summary to stderr)')
    .option('--catalog-version <v>', 'version of the new catalog (default: litellm-<as-of>.1)')
    .option('--valid-from <date>', 'valid_from of every entry, YYYY-MM-DD (default: --as-of)')
    .option('--as-of <date>', 'the date the file was downloaded (default: today, UTC)')
    .option('--provider <names>', 'only these providers (normalized, comma-separated; repeatable)', list)
    .option(
      '--free <keys>',
      'LiteLLM keys that really are free: imported at $0 (comma-separated; repeatable)',
      list,
    )
    .option('--json', 'print the summary as JSON (needs --out)')
    .action(
      async (
        file: string,
        flags: {
          out?: string;
          catalogVersion?: string;
          validFrom?: string;
          asOf?: string;
          provider?: string[];
          free?: string[];
          json?: boolean;
        },
      ) => {
        if (flags.json && !flags.out) {
          throw new ValidationError(
            '--json',
            '--json needs --out: without it the catalog itself is what goes to stdout.',
            'invalid_argument',
          );
        }
        const today = new Date(now()).toISOString().slice(0, 10);
        const asOf = date('--as-of', flags.asOf ?? today);
        const validFrom = date('--valid-from', flags.validFrom ?? asOf);
        const version = flags.catalogVersion ?? `litellm-${asOf}.1`;
        const raw = readReferenceDocument(file, 'import-litellm FILE');
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
          throw new ConfigError(
            file,
            `${file} is not a LiteLLM price file: it must be one JSON object keyed by model.`,
          );
        }
        const result = importLiteLlmPrices(raw as Record<string, unknown>, {
          validFrom,
          asOf,
          ...(flags.provider ? { providers: flags.provider } : {}),
          ...(flags.free ? { free: flags.free } : {}),
        });
        // The catalog is validated as the enricher will load it before anything is written.
        inFile(file, '--catalog-version', () => new PriceCatalog(version, result.entries));
        const catalog = {
          version,
          description: `Imported from LiteLLM's model_prices_and_context_window.json (${file}) on ${asOf}.`,
          entries: result.entries,
        };
        const text = `${JSON.stringify(catalog, null, 2)}\n`;
        const counts = new Map<LiteLlmSkipKind, { count: number; example: string }>();
        for (const skip of result.skipped) {
          const seen = counts.get(skip.kind);
          if (seen) seen.count++;
          else counts.set(skip.kind, { count: 1, example: `${skip.key}: ${skip.reason}` });
        }
        const summary = {
          version,
          out: flags.out ?? null,
          imported: result.entries.length,
          skipped: Object.fromEntries([...counts].map(([kind, c]) => [kind, c.count])),
          skipped_entries: result.skipped,
          warnings: result.warnings,
        };
        if (flags.out) {
          await writeFileAtomically(flags.out, text);
        } else output.out(text);
        if (flags.json) {
          output.out(toJson(summary));
          return;
        }
        const say = flags.out ? output.out : output.err;
        say(
          `imported ${summary.imported} entries${flags.out ? ` into ${flags.out}` : ''} (catalog ${version}); skipped ${result.skipped.length}\n`,
        );
        if (counts.size > 0) {
          say(
            renderTable(
              [
                { title: 'skipped because' },
                { title: 'entries', align: 'right' },
                { title: 'e.g.', maxChars: 90 },
              ],
              [...counts].map(([kind, c]) => [kind.replaceAll('_', ' '), String(c.count), c.example]),
            ),
          );
        }
        for (const warning of result.warnings) say(`check: ${warning.id} ${warning.reason}\n`);
      },
    );
}
