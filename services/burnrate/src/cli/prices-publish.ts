import { Command } from 'commander';
import { pino } from 'pino';
import { loadConfig } from '../config/load.js';
import { createKafka } from '../kafka/client.js';
import { ensureTopics, topicNames } from '../kafka/topics.js';
import { publishReference } from '../pricing/prices-topic.js';
import { loadReference } from '../pricing/reference-files.js';
import { createLogger } from '../runtime/logger.js';
import { type CliOutput, processOutput, toJson } from './kit/output.js';

/**
 * `burnrate prices publish`: validates a catalog and overrides and publishes them on the prices
 * topic; every enricher applies them within a second, without a restart.
 */
export function createPricesPublishCommand(
  output: CliOutput = processOutput,
  env: NodeJS.ProcessEnv = process.env,
): Command {
  return new Command('publish')
    .description('publish a catalog and overrides to every enricher (no restart)')
    .option('--prices <file>', 'catalog (default: BURNRATE_PRICES_FILE, else the bundled one)')
    .option(
      '--overrides <file>',
      'per-customer overrides, YAML or JSON (default: BURNRATE_OVERRIDES_FILE, else none)',
    )
    .option('--json', 'print JSON')
    .action(async (flags: { prices?: string; overrides?: string; json?: boolean }) => {
      const config = loadConfig(env);
      // Both files are validated before anything is sent: a refused file has no effect.
      const reference = loadReference({ pricesFile: flags.prices, overridesFile: flags.overrides }, config);
      const logger = createLogger(
        config.LOG_LEVEL === 'info' ? 'error' : config.LOG_LEVEL,
        // The topic's skipped records are reported on stderr, never mixed into the output (--json).
        pino.destination({ fd: 2, sync: true }),
      );
      const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'burnrate-cli', logger });
      const topics = topicNames(config.BURNRATE_TOPIC_PREFIX);
      await ensureTopics(kafka, topics, {
        partitions: config.KAFKA_TOPIC_PARTITIONS,
        replicationFactor: config.KAFKA_REPLICATION_FACTOR,
        logger,
        minInsyncReplicas: config.KAFKA_MIN_INSYNC_REPLICAS,
      });
      const result = await publishReference(kafka, topics.prices, reference, logger);
      const summary = {
        topic: topics.prices,
        catalog: reference.prices.version,
        overrides: reference.overrides.version,
        entries: reference.prices.entries.length,
        override_count: reference.overrides.overrides.length,
        published: result.sent,
      };
      if (flags.json) output.out(toJson(summary));
      else
        output.out(
          result.sent
            ? `published catalog ${summary.catalog} (${summary.entries} entries) and overrides ${summary.overrides} (${summary.override_count}) to ${summary.topic}\n`
            : `catalog ${summary.catalog} and overrides ${summary.overrides} are already the last published on ${summary.topic}; nothing sent\n`,
        );
    });
}
