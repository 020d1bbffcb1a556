import { readFileSync } from 'node:fs';
import { parseCustomerImport, parseCustomerRecord } from '@burnrate/core';
import { loadConfig } from '../config/load.js';
import { createKafka } from '../kafka/client.js';
import { ensureTopics, topicNames } from '../kafka/topics.js';
import { publishCustomers } from '../roles/customers-publisher.js';
import { createLogger } from '../runtime/logger.js';

const USAGE = `usage:
  burnrate customers import <file.jsonl|file.csv>   publish every record in the file
  burnrate customers set '<json record>'            publish one record, e.g.
    '{"customer_ref":"org_1","customer_id":"acme","plan":{"kind":"flat_rate","revenue_nanos":"200000000000","currency":"USD"}}'
`;

/** `burnrate customers …`: feed the compacted customers topic every enricher reads. */
export async function customersCommand(args: string[]): Promise<number> {
  const [sub, arg] = args;
  if ((sub !== 'import' && sub !== 'set') || !arg) {
    process.stderr.write(USAGE);
    return 2;
  }
  const records =
    sub === 'import'
      ? parseCustomerImport(readFileSync(arg, 'utf8'), arg.endsWith('.csv') ? 'csv' : 'jsonl')
      : [parseCustomerRecord(JSON.parse(arg), { where: 'The record' })];
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'burnrate-cli', logger });
  const topics = topicNames(config.BURNRATE_TOPIC_PREFIX);
  await ensureTopics(kafka, topics, {
    partitions: config.KAFKA_TOPIC_PARTITIONS,
    replicationFactor: config.KAFKA_REPLICATION_FACTOR,
  });
  const n = await publishCustomers(kafka, topics.customers, records);
  process.stdout.write(`published ${n} customer record${n === 1 ? '' : 's'} to ${topics.customers}\n`);
  return 0;
}
