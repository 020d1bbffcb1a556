import { type CustomerRecord, encodeCustomerMessage, parseCustomerRecord } from '@burnrate/core';
import type { Kafka } from 'kafkajs';

/**
 * Publishes customer records to the compacted customers topic (key `<customer_ref>@<valid_from>`),
 * validating each first so a bad record is refused here, with its field named, not downstream.
 */
export async function publishCustomers(
  kafka: Kafka,
  topic: string,
  records: Array<CustomerRecord | unknown>,
): Promise<number> {
  const messages = records.map((r, i) => {
    const record = isRecord(r) ? r : parseCustomerRecord(r, { where: `Customer record ${i + 1}` });
    return encodeCustomerMessage(record);
  });
  if (messages.length === 0) return 0;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 1_000) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1_000) });
    }
  } finally {
    await producer.disconnect();
  }
  return messages.length;
}

function isRecord(r: unknown): r is CustomerRecord {
  return typeof r === 'object' && r !== null && typeof (r as CustomerRecord).plan?.revenue_nanos === 'bigint';
}
