import { readFileSync } from 'node:fs';
import {
  type CustomerRecord,
  parseCustomerImport,
  parseCustomerRecord,
  ValidationError,
} from '@burnrate/core';
import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { createKafka } from '../kafka/client.js';
import { ensureTopics, topicNames } from '../kafka/topics.js';
import { publishCustomers } from '../roles/customers-publisher.js';
import { createLogger } from '../runtime/logger.js';
import { type CliOutput, processOutput } from './kit/output.js';

const EXAMPLE = `
Example:
  burnrate customers set '{"customer_ref":"org_1","customer_id":"acme","plan":{"kind":"flat_rate","revenue_nanos":"200000000000","currency":"USD"}}'`;

/** `burnrate customers …`: feed the compacted customers topic every enricher reads. */
export function createCustomersCommand(output: CliOutput = processOutput): Command {
  const customers = new Command('customers').description('publish customer records to the customers topic');
  customers
    .command('import')
    .description('publish every record in a JSON lines or CSV file')
    .argument('<file>', 'file.jsonl or file.csv')
    .action((file: string) => publish(readRecords(file), output));
  customers
    .command('set')
    .description('publish one record given as JSON')
    .argument('<json>', 'one customer record')
    .addHelpText('after', EXAMPLE)
    .action((json: string) => {
      let value: unknown;
      try {
        value = JSON.parse(json);
      } catch (error) {
        throw new ValidationError(
          'record',
          `The record is not JSON (${(error as Error).message}); quote it in single quotes as in burnrate customers set --help.`,
          'invalid_argument',
        );
      }
      return publish([parseCustomerRecord(value, { where: 'The record' })], output);
    });
  return customers;
}

function readRecords(file: string): CustomerRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ValidationError(
      'file',
      `${file} cannot be read (${code}): give the path of a JSON lines or CSV file.`,
      'invalid_argument',
    );
  }
  return parseCustomerImport(text, file.endsWith('.csv') ? 'csv' : 'jsonl');
}

async function publish(records: CustomerRecord[], output: CliOutput): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'burnrate-cli', logger });
  const topics = topicNames(config.BURNRATE_TOPIC_PREFIX);
  await ensureTopics(kafka, topics, {
    partitions: config.KAFKA_TOPIC_PARTITIONS,
    replicationFactor: config.KAFKA_REPLICATION_FACTOR,
    minInsyncReplicas: config.KAFKA_MIN_INSYNC_REPLICAS,
  });
  const n = await publishCustomers(kafka, topics.customers, records);
  output.out(`published ${n} customer record${n === 1 ? '' : 's'} to ${topics.customers}\n`);
}
