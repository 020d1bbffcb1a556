import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { enrichedRow, testClickHouse } from './fixtures.js';

// Every ```sql block of docs/analysts.md must run against the real schema and return rows.
const doc = readFileSync(`${inject('rootDir')}/docs/analysts.md`, 'utf8');
const queries = [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
let ch: Awaited<ReturnType<typeof testClickHouse>>;

beforeAll(async () => {
  ch = await testClickHouse('burnrate');
  const now = Date.now();
  const rows = Array.from({ length: 200 }, (_, i) =>
    JSON.stringify({
      ...enrichedRow(i, {
        occurred_at: now - i * 60_000,
        billing_period_start: new Date(now).toISOString().slice(0, 8) + '01',
        quality_score: i % 2 ? 0.8 : null,
        provider_reported_cost_nanos: i % 3 ? 1234 : null,
        unpriced: i % 10 === 0 ? 1 : 0,
        unmapped: i % 20 === 0 ? 1 : 0,
        // One inference whale: far above its flat-rate revenue and the median customer.
        ...(i % 10 === 3 ? { customer_id: 'whale', cost_total_nanos: 500_000_000_000 } : {}),
      }),
      kafka_topic: 'usage.enriched',
      kafka_partition: 0,
      kafka_offset: i,
    }),
  );
  await ch.client.command({
    query: `INSERT INTO burnrate.usage_events FORMAT JSONEachRow\n${rows.join('\n')}`,
  });
  await ch.client.command({
    query: `INSERT INTO burnrate.dead_letters FORMAT JSONEachRow\n${JSON.stringify({ received_at: now, reason: 'invalid_value', field: 'tokens.input', message: 'x', source_topic: 'usage.events', source_partition: 0, source_offset: 1, key: 'k', payload_base64: '', kafka_topic: 'usage.dlq', kafka_partition: 0, kafka_offset: 0 })}`,
  });
});
afterAll(() => ch.client.close());

describe('docs/analysts.md', () => {
  it('has queries', () => expect(queries.length).toBeGreaterThanOrEqual(10));
  it.each(queries.map((q, i) => [i + 1, q]))('query %i runs and returns rows', async (_, query) => {
    const rs = await ch.client.query({ query: query as string, format: 'JSONEachRow' });
    expect((await rs.json()).length).toBeGreaterThan(0);
  });
});
