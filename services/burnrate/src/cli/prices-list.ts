import {
  instantMs,
  type PriceCatalog,
  type PriceEntry,
  type TokenPrices,
  ValidationError,
} from '@burnrate/core';
import { Command } from 'commander';
import { pino } from 'pino';
import { loadConfig } from '../config/load.js';
import { createKafka } from '../kafka/client.js';
import { topicNames } from '../kafka/topics.js';
import { readPublished } from '../pricing/prices-topic.js';
import { loadReference } from '../pricing/reference-files.js';
import { createLogger } from '../runtime/logger.js';
import { type CliOutput, processOutput, renderTable, toJson } from './kit/output.js';
import { parseWhen } from './kit/period.js';

/** The rate each bucket is billed at, with the catalog's fallbacks applied (docs/pricing.md). */
export function effectiveRates(prices: TokenPrices): Required<TokenPrices> {
  return {
    input: prices.input,
    cached_input: prices.cached_input ?? prices.input,
    cache_write: prices.cache_write ?? prices.input,
    output: prices.output,
    reasoning: prices.reasoning ?? prices.output,
  };
}

const dollars = (rate: string) => `$${rate}`;

function tiersText(entry: PriceEntry): string {
  return entry.tiers
    .map(
      (t) =>
        `>${t.above_input_tokens / 1000}k ${dollars(t.tokens_per_million.input)}/${dollars(t.tokens_per_million.output)}`,
    )
    .join(' ');
}

function feesText(entry: PriceEntry): string {
  return Object.entries(entry.fees)
    .map(([name, fee]) => `${name.replace(/^per_/, '')} ${dollars(fee as string)}`)
    .join(', ');
}

interface ListFlags {
  model?: string;
  provider?: string;
  at?: string;
  prices?: string;
  published?: boolean;
  json?: boolean;
}

async function catalogToList(flags: ListFlags, env: NodeJS.ProcessEnv): Promise<PriceCatalog> {
  const config = loadConfig(env);
  if (!flags.published) return loadReference({ pricesFile: flags.prices }, config).prices;
  if (flags.prices !== undefined) {
    throw new ValidationError('--published', 'Give --published or --prices, not both.', 'invalid_argument');
  }
  const logger = createLogger(
    config.LOG_LEVEL === 'info' ? 'error' : config.LOG_LEVEL,
    // The topic's skipped records are reported on stderr, never mixed into the output (--json).
    pino.destination({ fd: 2, sync: true }),
  );
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'burnrate-cli', logger });
  const topic = topicNames(config.BURNRATE_TOPIC_PREFIX).prices;
  const { latest } = await readPublished(kafka, topic, logger);
  // Nothing published yet: the enrichers use their files, which is what the default lists.
  return latest?.prices ?? loadReference({}, config).prices;
}

/** `burnrate prices list`: the prices in force at an instant, per model, in USD per million tokens, exact. */
export function createPricesListCommand(
  output: CliOutput = processOutput,
  env: NodeJS.ProcessEnv = process.env,
  now = () => Date.now(),
): Command {
  return new Command('list')
    .description('effective prices per model (USD per million tokens, exact)')
    .option('--model <text>', 'only models whose name or alias contains this')
    .option('--provider <name>', 'only this provider')
    .option('--at <when>', 'prices in force at this instant: ISO date or instant, now, 7d (default: now)')
    .option('--prices <file>', 'catalog to list (default: BURNRATE_PRICES_FILE, else the bundled one)')
    .option('--published', 'list the catalog last published on the prices topic (what the enrichers use)')
    .option('--json', 'print JSON')
    .action(async (flags: ListFlags) => {
      const atMs = flags.at === undefined ? now() : parseWhen(flags.at, '--at', now());
      if (flags.model === '')
        throw new ValidationError('--model', '--model needs some text to match.', 'invalid_argument');
      const prices = await catalogToList(flags, env);
      const needle = flags.model?.toLowerCase();
      const entries = prices.entries.filter((entry) => {
        if (flags.provider !== undefined && entry.provider !== flags.provider) return false;
        const names = [entry.model, ...entry.aliases].map((n) => n.toLowerCase());
        if (needle !== undefined && !names.some((n) => n.includes(needle))) return false;
        const from = instantMs(entry.valid_from) ?? Number.POSITIVE_INFINITY;
        const to = entry.valid_to === null ? Number.POSITIVE_INFINITY : (instantMs(entry.valid_to) ?? 0);
        return from <= atMs && atMs < to;
      });
      if (flags.json) {
        output.out(
          toJson({
            catalog: prices.version,
            at: new Date(atMs).toISOString(),
            entries: entries.map((entry) => ({
              id: entry.id,
              provider: entry.provider,
              model: entry.model,
              aliases: entry.aliases,
              usd_per_million_tokens: effectiveRates(entry.tokens_per_million),
              listed: Object.keys(entry.tokens_per_million),
              tiers: entry.tiers.map((t) => ({
                above_input_tokens: t.above_input_tokens,
                usd_per_million_tokens: effectiveRates(t.tokens_per_million),
              })),
              fees_usd: entry.fees,
              valid_from: entry.valid_from,
              valid_to: entry.valid_to,
              price_version: prices.priceVersion(entry),
            })),
          }),
        );
        return;
      }
      output.out(
        `catalog ${prices.version}, prices in force at ${new Date(atMs).toISOString()}, USD per million tokens\n`,
      );
      output.out(
        renderTable(
          [
            { title: 'provider' },
            { title: 'model', maxChars: 40 },
            { title: 'input', align: 'right' },
            { title: 'cached', align: 'right' },
            { title: 'cache write', align: 'right' },
            { title: 'output', align: 'right' },
            { title: 'reasoning', align: 'right' },
            { title: 'long context (in/out)' },
            { title: 'fees per unit', maxChars: 50 },
          ],
          entries.map((entry) => {
            const r = effectiveRates(entry.tokens_per_million);
            return [
              entry.provider,
              entry.model,
              dollars(r.input),
              dollars(r.cached_input),
              dollars(r.cache_write),
              dollars(r.output),
              dollars(r.reasoning),
              tiersText(entry),
              feesText(entry),
            ];
          }),
        ),
      );
      output.out(`${entries.length} model${entries.length === 1 ? '' : 's'}\n`);
    });
}
