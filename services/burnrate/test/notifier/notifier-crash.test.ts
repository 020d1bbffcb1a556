import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWebhookSecret } from '@burnrate/core';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AlertJob } from '../../src/roles/aggregator/alert-relay.js';
import { bullPrefix } from '../../src/runtime/alerting-roles.js';
import { pollUntil, testClickHouseServer, uniquePrefix } from '../fixtures.js';
import { exited, kill, spawnBurnrate } from '../process-harness.js';
import { budgetAlert, freshCustomer } from './alerts.js';
import { startReceiver } from './receiver.js';
import { deleteKeys, pollRows } from './rig.js';

/**
 * A notifier process killed while a delivery is on the wire: the job's lock expires, a new process
 * sends it again, and the receiver sees the same webhook-id both times (so it can drop the repeat).
 */
let ch: Awaited<ReturnType<typeof testClickHouseServer>>;
let clickhouseUrl: string;
let redis: Redis;
const prefix = uniquePrefix();

beforeAll(async () => {
  ch = await testClickHouseServer();
  clickhouseUrl = ch.url;
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
  await ch.stop();
});

describe('notifier: killed mid-send', () => {
  it('a new process sends the alert again with the same webhook-id after the old one is SIGKILLed', async () => {
    const secret = generateWebhookSecret();
    // The first request is held open (the notifier is "mid-send" while it waits); later ones get 200.
    const receiver = await startReceiver({
      secrets: [secret],
      reply: (_, i) => (i === 0 ? 'hold' : { status: 200 }),
    });
    const dir = mkdtempSync(join(tmpdir(), 'burnrate-notifier-'));
    const rulesFile = join(dir, 'alerting.yaml');
    writeFileSync(
      rulesFile,
      [
        'destinations:',
        '  - name: hook',
        '    kind: webhook',
        `    url: ${receiver.url}`,
        // The secret comes from the environment, as in production.
        `    secrets: ["\${HOOK_SECRET}"]`,
        '',
      ].join('\n'),
    );
    const env = {
      BURNRATE_ROLES: 'notifier',
      KAFKA_BROKERS: inject('kafkaBrokers'),
      REDIS_URL: inject('redisUrl'),
      BURNRATE_TOPIC_PREFIX: prefix,
      CLICKHOUSE_URL: clickhouseUrl,
      CLICKHOUSE_DATABASE: ch.database,
      BURNRATE_RULES_FILE: rulesFile,
      HOOK_SECRET: secret,
      NOTIFIER_ALLOWED_NETWORKS: '127.0.0.1/32',
      NOTIFIER_LOCK_MS: '2000',
      NOTIFIER_BACKOFF_BASE_MS: '200',
      NOTIFIER_BACKOFF_MAX_MS: '2000',
    };
    const alerts = new Queue<AlertJob>('alerts', { connection: redis, prefix: bullPrefix(prefix) });
    const deliveries = new Queue('deliveries', { connection: redis, prefix: bullPrefix(prefix) });
    const started = (run: ReturnType<typeof spawnBurnrate>) =>
      pollUntil(
        async () => run.output(),
        (out) => out.includes('burnrate is running') || run.child.exitCode !== null,
        60_000,
      );
    try {
      const first = spawnBurnrate(env);
      expect(await started(first), first.output()).toContain('burnrate is running');
      const payload = budgetAlert(freshCustomer(), '100');
      await alerts.add(payload.type, { payload }, { jobId: payload.id });
      const jobId = `${payload.id}.hook`;

      await pollUntil(
        async () => receiver.requests.length,
        (n) => n >= 1,
        30_000,
      );
      expect(receiver.requests).toHaveLength(1);
      expect(await deliveries.getJobState(jobId)).toBe('active');
      await kill(first.child, 'SIGKILL');

      const second = spawnBurnrate(env);
      try {
        expect(await started(second), second.output()).toContain('burnrate is running');
        const state = await pollUntil(
          () => deliveries.getJobState(jobId),
          (s) => s === 'completed' || s === 'failed',
          60_000,
        );
        expect(state, second.output()).toBe('completed');
        expect(receiver.requests).toHaveLength(2);
        // Both requests are the same message: one webhook-id, each verified with the destination's secret.
        for (const r of receiver.requests) {
          expect(r.headers['webhook-id']).toBe(payload.id);
          expect(r.verified).toEqual({ id: payload.id, timestampSeconds: expect.any(Number) });
          expect(r.body).toBe(JSON.stringify(payload));
        }
        // The attempt the killed process never finished is not recorded; the takeover is attempt 2.
        const rows = await pollRows(ch, [payload.id], (r) => r.length >= 1);
        expect(rows.map((r) => [r.destination, r.attempt, r.outcome, r.status])).toEqual([
          ['hook', 2, 'delivered', 200],
        ]);
      } finally {
        second.child.kill('SIGTERM');
        await exited(second.child);
      }
      expect(second.child.exitCode).toBe(0);
    } finally {
      await alerts.close();
      await deliveries.close();
      await receiver.close();
    }
  }, 180_000);
});
