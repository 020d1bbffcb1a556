import { spawn } from 'node:child_process';
import net from 'node:net';
import { type AlertPayload, generateWebhookSecret } from '@burnrate/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAlertRelay } from '../../src/roles/aggregator/alert-relay.js';
import type { Component } from '../../src/runtime/lifecycle.js';
import { fatalErrors, pollUntil, silentLogger, testClickHouseServer } from '../fixtures.js';
import { budgetAlert, FIRED_AT_MS, freshCustomer } from './alerts.js';
import { type Receiver, type Reply, startReceiver } from './receiver.js';
import { type NotifierRig, pollRows, startNotifierRig } from './rig.js';

/**
 * `burnrate alerts` as on-call runs it: a real child process against the real Redis and a ClickHouse
 * HTTP interface, while a real notifier delivers (and fails to deliver) alerts.
 */
let ch: Awaited<ReturnType<typeof testClickHouseServer>>;
let clickhouseUrl: string;
let redis: Redis;
let rig: NotifierRig;
let relay: Component;
let hookReply: Reply = { status: 400 };
let goneReply: Reply = { status: 410 };
let flakyReplies: Reply[] = [];
let hook: Receiver;
let gone: Receiver;
let flaky: Receiver;
const customer = freshCustomer();
const flakyCustomer = freshCustomer();

beforeAll(async () => {
  ch = await testClickHouseServer();
  clickhouseUrl = ch.url;
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  const secret = generateWebhookSecret();
  hook = await startReceiver({ secrets: [secret], reply: () => hookReply });
  gone = await startReceiver({ secrets: [secret], reply: () => goneReply });
  flaky = await startReceiver({ secrets: [secret], reply: () => flakyReplies.shift() ?? { status: 500 } });
  const match = { min_severity: 'warning', customers: [customer.customer_id] };
  rig = await startNotifierRig({
    redis,
    clickhouse: ch,
    destinations: [
      { name: 'hook', kind: 'webhook', url: hook.url, secrets: [secret], match },
      { name: 'gone', kind: 'webhook', url: gone.url, secrets: [secret], match },
      {
        name: 'flaky',
        kind: 'webhook',
        url: flaky.url,
        secrets: [secret],
        match: { customers: [flakyCustomer.customer_id] },
      },
    ],
    attempts: 3,
  });
  // Alerts enter as in production: the aggregator's outbox → the relay → ClickHouse `alerts` + the queue.
  relay = createAlertRelay(
    { database: ch.database, retryLogIntervalMs: 10_000 },
    { redis, keys: rig.keys, clickhouse: ch.client, queue: rig.alerts, logger: silentLogger },
  );
  await relay.start();
});
afterAll(async () => {
  await relay?.stop();
  await rig?.stop();
  await Promise.all([hook?.close(), gone?.close(), flaky?.close()]);
  await redis?.quit();
  await ch?.stop();
});

async function fire(payload: AlertPayload): Promise<void> {
  await redis.xadd(rig.keys.alertOutbox, '*', 'payload', JSON.stringify(payload));
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `burnrate alerts …` as a child process, as on-call would. */
function alertsCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawn(
    process.execPath,
    ['--conditions=@burnrate/source', '--import', 'tsx', 'services/burnrate/src/main.ts', 'alerts', ...args],
    {
      cwd: inject('rootDir'),
      env: {
        ...process.env,
        REDIS_URL: inject('redisUrl'),
        BURNRATE_TOPIC_PREFIX: rig.prefix,
        CLICKHOUSE_URL: clickhouseUrl,
        CLICKHOUSE_DATABASE: ch.database,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

const critical = budgetAlert(customer, '100');
// An hour later, below every destination's min_severity: on record, delivered nowhere.
const later = budgetAlert(customer, '50', 'fired', FIRED_AT_MS + 3_600_000);
const hookJob = `${critical.id}.hook`;
const goneJob = `${critical.id}.gone`;

describe('burnrate alerts', () => {
  it('lists a delivery that failed for good, replays it once the receiver is fixed, and it is delivered', async () => {
    await fire(critical);
    expect(await rig.settled(critical.id, 'hook')).toBe('failed');
    expect(await rig.settled(critical.id, 'gone')).toBe('failed');

    const listed = await alertsCli(['failed', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const failed = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(failed.map((f) => f.job_id).sort()).toEqual([goneJob, hookJob].sort());
    expect(failed.find((f) => f.job_id === hookJob)).toEqual({
      job_id: hookJob,
      message_id: critical.id,
      alert_id: critical.alert_id,
      destination: 'hook',
      event: 'fired',
      rule: 'budget',
      severity: 'critical',
      subject: critical.subject,
      threshold: '100%',
      attempts: 1,
      last_error: 'the receiver answered 400, which a retry cannot fix',
      failed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    expect(failed.find((f) => f.job_id === goneJob)).toMatchObject({
      last_error: 'the receiver answered 410 Gone',
    });

    const table = await alertsCli(['failed']);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(/^JOB ID +DESTINATION +RULE +SEVERITY +SUBJECT +ATTEMPTS +LAST ERROR +WHEN$/);
    const row = lines.find((l) => l.startsWith(`${hookJob} `))!;
    expect(row).toBeDefined();
    // Aligned: every column of the row starts where its title does.
    for (const title of ['DESTINATION', 'RULE', 'SEVERITY', 'SUBJECT', 'LAST ERROR']) {
      expect(row[lines[0]!.indexOf(title) - 1]).toBe(' ');
      expect(row[lines[0]!.indexOf(title)]).not.toBe(' ');
    }
    expect(row).toContain('budget 100%');
    expect(row).toContain('the receiver answered 400');
    expect(table.stdout).toContain('Disabled after 410 Gone: gone;');

    hookReply = { status: 200 };
    const replayed = await alertsCli(['replay', hookJob]);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stdout).toBe(`requeued ${hookJob} → hook (budget 100%, ${critical.subject})\n`);
    expect(await rig.settled(critical.id, 'hook')).toBe('completed');
    expect(hook.requests.map((r) => r.headers['webhook-id'])).toEqual([critical.id, critical.id]);
    expect(hook.requests.map((r) => r.verified)).toEqual([
      { id: critical.id, timestampSeconds: expect.any(Number) },
      { id: critical.id, timestampSeconds: expect.any(Number) },
    ]);
    // Both attempts stay on record: the replay's attempt numbers continue rather than restart.
    const rows = await pollRows(
      ch,
      [critical.id],
      (r) => r.filter((x) => x.destination === 'hook').length >= 2,
    );
    expect(rows.filter((r) => r.destination === 'hook').map((r) => [r.attempt, r.outcome, r.status])).toEqual(
      [
        [1, 'failed', 400],
        [2, 'delivered', 200],
      ],
    );

    const after = JSON.parse((await alertsCli(['failed', '--json'])).stdout) as Array<{ job_id: string }>;
    expect(after.map((f) => f.job_id)).toEqual([goneJob]);
  });

  it('refuses to replay an unknown or a delivered job, and unknown commands, with exit code 2 and a sentence', async () => {
    const unknown = await alertsCli(['replay', 'al_nope.hook']);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toBe(
      `burnrate: There is no delivery job "al_nope.hook" (BURNRATE_TOPIC_PREFIX "${rig.prefix}"); \`burnrate alerts failed\` lists the ones that can be replayed.\n`,
    );
    const delivered = await alertsCli(['replay', hookJob]);
    expect(delivered.code).toBe(2);
    expect(delivered.stderr).toContain(`Delivery job "${hookJob}" is completed, not failed;`);
    const bogus = await alertsCli(['bogus']);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toBe("burnrate: unknown command 'bogus'; see burnrate alerts --help.\n");
    const both = await alertsCli(['replay', hookJob, '--all']);
    expect(both.code).toBe(2);
    expect(both.stderr.split('\n')[0]).toBe('burnrate: Give either a job id or --all, not both.');
    const badRange = await alertsCli(['list', '--from', 'yesterday']);
    expect(badRange.code).toBe(2);
    expect(badRange.stderr.split('\n')[0]).toBe(
      'burnrate: --from "yesterday" is not a date: give an ISO date or instant (2026-11-01, 2026-11-01T12:00:00Z), now, or a span back from now (24h, 7d).',
    );
    expect(hook.requests).toHaveLength(2);
  });

  it('re-enables a destination disabled by 410 Gone; --all then replays what failed', async () => {
    expect(await redis.hget(rig.keys.disabledDestinations, 'gone')).not.toBeNull();
    goneReply = { status: 200 };
    const enabled = await alertsCli(['enable', 'gone']);
    expect(enabled.code, enabled.stderr).toBe(0);
    expect(enabled.stdout).toMatch(/^Destination gone is enabled again\./);
    expect(await redis.hget(rig.keys.disabledDestinations, 'gone')).toBeNull();
    const again = await alertsCli(['enable', 'gone']);
    expect(again.stdout).toBe('Destination gone is not disabled (disabled now: none); nothing to do.\n');

    const all = await alertsCli(['replay', '--all']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toBe(`requeued ${goneJob} → gone (budget 100%, ${critical.subject})\n`);
    expect(await rig.settled(critical.id, 'gone')).toBe('completed');
    expect(gone.requests.map((r) => r.headers['webhook-id'])).toEqual([critical.id, critical.id]);
    const rows = await pollRows(ch, [critical.id], (r) =>
      r.some((x) => x.destination === 'gone' && x.outcome === 'delivered'),
    );
    expect(rows.filter((r) => r.destination === 'gone').map((r) => [r.outcome, r.status])).toEqual([
      ['disabled', 410],
      ['delivered', 200],
    ]);

    const none = await alertsCli(['failed']);
    expect(none.stdout).toBe('No delivery has failed for good.\n');
    const nothing = await alertsCli(['replay', '--all']);
    expect(nothing.stdout).toBe('Nothing to replay: no delivery has failed for good.\n');
  });

  it('gives a replayed delivery a fresh set of attempts, even one that used them all', async () => {
    // A day before the others, so the list below (from 2026-11-20) leaves it out.
    const flakyAlert = budgetAlert(flakyCustomer, '80', 'fired', FIRED_AT_MS - 86_400_000);
    await fire(flakyAlert);
    expect(await rig.settled(flakyAlert.id, 'flaky')).toBe('failed');
    expect(flaky.requests).toHaveLength(3);
    const [listed] = JSON.parse((await alertsCli(['failed', '--json'])).stdout) as Array<
      Record<string, unknown>
    >;
    expect(listed).toMatchObject({
      job_id: `${flakyAlert.id}.flaky`,
      attempts: 3,
      last_error: 'the receiver answered 500',
    });

    // Still failing once more, then fixed: only a reset attempt count lets the replay retry that failure.
    flakyReplies = [{ status: 503 }, { status: 200 }];
    const replayed = await alertsCli(['replay', `${flakyAlert.id}.flaky`]);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(await rig.settled(flakyAlert.id, 'flaky')).toBe('completed');
    expect(flaky.requests.map((r) => r.headers['webhook-id'])).toEqual(Array(5).fill(flakyAlert.id));
    const rows = await pollRows(ch, [flakyAlert.id], (r) => r.length >= 5);
    expect(rows.map((r) => [r.attempt, r.outcome, r.status])).toEqual([
      [1, 'retrying', 500],
      [2, 'retrying', 500],
      [3, 'failed', 500],
      [4, 'retrying', 503],
      [5, 'delivered', 200],
    ]);
  });

  it('lists the alerts on record, newest first, within --from/--to', async () => {
    await fire(later);
    const ids = [critical.id, later.id];
    await pollUntil(
      async () => {
        const rs = await ch.client.query({
          query: `SELECT count() AS n FROM ${ch.database}.alerts FINAL WHERE message_id IN ('${ids.join("','")}')`,
          format: 'JSONEachRow',
        });
        return Number((await rs.json<{ n: string }>())[0]!.n);
      },
      (n) => n === 2,
      20_000,
    );
    const listed = await alertsCli(['list', '--json', '--from', '2026-11-20']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      {
        message_id: later.id,
        at: '2026-11-20T13:00:00.000Z',
        event: 'fired',
        severity: 'info',
        rule: 'budget',
        subject: later.subject,
        threshold: '50%',
        summary: later.summary,
      },
      {
        message_id: critical.id,
        at: '2026-11-20T12:00:00.000Z',
        event: 'fired',
        severity: 'critical',
        rule: 'budget',
        subject: critical.subject,
        threshold: '100%',
        summary: critical.summary,
      },
    ]);
    const from = JSON.parse((await alertsCli(['list', '--json', '--from', later.at])).stdout);
    expect(from.map((a: { message_id: string }) => a.message_id)).toEqual([later.id]);
    const to = JSON.parse(
      (await alertsCli(['list', '--json', '--from=2026-11-20', '--to=2026-11-20T13:00:00Z'])).stdout,
    );
    expect(to.map((a: { message_id: string }) => a.message_id)).toEqual([critical.id]);
    const empty = await alertsCli(['list', '--from', '2026-12-01']);
    expect(empty.stdout).toBe('No alerts on record in this range.\n');

    const table = await alertsCli(['list', '--limit', '1', '--from', '2026-11-20']);
    expect(table.code, table.stderr).toBe(0);
    const [header, first, ...rest] = table.stdout.split('\n');
    expect(header).toMatch(/^AT +EVENT +SEVERITY +RULE +SUBJECT +THRESHOLD +SUMMARY$/);
    expect(first).toMatch(new RegExp(`^2026-11-20T13:00:00Z +fired +info +budget +${later.subject} +50% +`));
    expect(rest.join('\n')).toContain('The newest 1 shown;');
  });

  it('names REDIS_URL when Redis cannot be reached, in one sentence, exit code 1', async () => {
    const port = await closedPort();
    const result = await alertsCli(['failed'], { REDIS_URL: `redis://user:hunter2@127.0.0.1:${port}` });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `burnrate: Redis at 127.0.0.1:${port} (REDIS_URL) cannot be used (ECONNREFUSED): start it or fix REDIS_URL.\n`,
    );
    expect(fatalErrors).toEqual([]);
  });
});
