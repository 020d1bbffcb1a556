import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pollUntil, testClickHouseServer, testKafka, testTopics, uniquePrefix } from '../fixtures.js';
import { exited, spawnBurnrate } from '../process-harness.js';
import { get, sample } from './ops-harness.js';

/**
 * A real `burnrate run` process: it serves /metrics, /healthz and /readyz on the port it logs, every
 * log line it writes carries a `role`.
 */
let ch: Awaited<ReturnType<typeof testClickHouseServer>>;
beforeAll(async () => {
  ch = await testClickHouseServer();
});
afterAll(() => ch?.stop());

describe('a burnrate process', { timeout: 120_000 }, () => {
  it('serves metrics and health on its port, and every log line carries its role', async () => {
    const prefix = uniquePrefix();
    await testTopics(testKafka(), prefix);
    const run = spawnBurnrate({
      BURNRATE_ROLES: 'enricher,ledger,aggregator,notifier,api',
      API_PORT: '0',
      KAFKA_BROKERS: inject('kafkaBrokers'),
      REDIS_URL: inject('redisUrl'),
      BURNRATE_TOPIC_PREFIX: prefix,
      CLICKHOUSE_URL: ch.url,
      CLICKHOUSE_DATABASE: ch.database,
      LOG_LEVEL: 'debug',
      READY_PROBE_INTERVAL_MS: '200',
    });
    try {
      const out = await pollUntil(
        async () => run.output(),
        (o) => o.includes('burnrate is running') || run.child.exitCode !== null,
        60_000,
      );
      const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)","msg":"metrics and health listening"/.exec(out)?.[1];
      expect(run.child.exitCode, out).toBeNull();
      expect(url, out).toBeDefined();
      const ready = await pollUntil(
        () => get(`${url}/readyz`),
        (r) => r.status === 200,
        20_000,
      );
      expect(ready.status).toBe(200);
      expect(ready.json().checks.map((c) => c.name)).toEqual([
        'roles',
        'started',
        'consumer:ledger',
        'consumer:enricher',
        'consumer:aggregator',
        'clickhouse',
        'redis',
        'kafka',
      ]);
      expect((await get(`${url}/healthz`)).json()).toMatchObject({ status: 'ok' });
      const metrics = (await get(`${url}/metrics`)).text;
      expect(sample(metrics, 'burnrate_check_ok', { check: 'consumer:ledger' })).toBe(1);
      expect(metrics).toContain('burnrate_process_cpu_seconds_total');
    } finally {
      run.child.kill('SIGTERM');
      await exited(run.child);
    }
    const lines = run
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(5);
    const roles = new Set<string>();
    for (const line of lines) {
      const entry = JSON.parse(line) as { role?: string; msg?: string };
      expect(entry.role, line).toBeTypeOf('string');
      // A role bound once: a child logger of a role-bound logger would repeat the key.
      expect(line.match(/"role":/g)?.length, line).toBe(1);
      roles.add(entry.role!);
    }
    expect([...roles].sort()).toEqual(['aggregator', 'api', 'enricher', 'ledger', 'notifier', 'runtime']);
    expect(run.child.exitCode).toBe(0);
  });
});
