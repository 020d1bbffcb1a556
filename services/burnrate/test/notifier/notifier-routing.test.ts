import { type AlertPayload, BurnrateError, generateWebhookSecret } from '@burnrate/core';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAddressGuard } from '../../src/delivery/address-guard.js';
import { fatalErrors, testClickHouse } from '../fixtures.js';
import { budgetAlert, freshCustomer, runawayAlert } from './alerts.js';
import { type Received, type Receiver, startReceiver } from './receiver.js';
import { type NotifierRig, pollRows, sleep, startNotifierRig } from './rig.js';

/** The SSRF guard as the notifier applies it, and routing to webhooks, Slack and PagerDuty. */
let ch: Awaited<ReturnType<typeof testClickHouse>>;
let redis: Redis;
let rig: NotifierRig | undefined;
const receivers: Receiver[] = [];

beforeAll(async () => {
  ch = await testClickHouse();
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
});
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  expect(fatalErrors).toEqual([]);
});
afterAll(async () => {
  await redis.quit();
  await ch.client.close();
});

async function receiver(o: Parameters<typeof startReceiver>[0] = {}): Promise<Receiver> {
  const r = await startReceiver(o);
  receivers.push(r);
  return r;
}

const secret = generateWebhookSecret();
const webhook = (name: string, url: string, match?: Record<string, unknown>) => ({
  name,
  kind: 'webhook',
  url,
  secrets: [secret],
  ...(match ? { match } : {}),
});

describe('notifier: SSRF guard', () => {
  it('refuses loopback, link-local (cloud metadata) and private destinations before any connection, and does not retry', async () => {
    const unlisted = createAddressGuard({ allowNetworks: [] });
    // Nothing below may connect outside 127.0.0.0/8: these addresses must be refused by the guard itself.
    for (const address of ['127.0.0.1', '169.254.169.254', '10.0.0.1']) {
      expect(() => unlisted.check(address)).toThrow(BurnrateError);
    }
    const local = await receiver({ secrets: [secret] });
    const port = new URL(local.url).port;
    const destinations = [
      webhook('loopback', local.url),
      webhook('by-name', `http://localhost:${port}/hook`),
      webhook('metadata', 'http://169.254.169.254/latest/meta-data'),
      webhook('internal', 'http://10.0.0.1/'),
    ];
    rig = await startNotifierRig({ redis, clickhouse: ch, destinations, allowNetworks: [] });
    const payload = budgetAlert(freshCustomer(), '100');
    await rig.send(payload);

    for (const d of destinations) expect(await rig.settled(payload.id, d.name)).toBe('failed');
    // A retry would come within 200 ms (backoffBaseMs); wait far longer.
    await sleep(1_500);
    expect(local.connections()).toBe(0);
    expect(local.requests).toHaveLength(0);
    for (const d of destinations) {
      expect((await rig.deliveries.getJob(`${payload.id}.${d.name}`))!.attemptsMade).toBe(1);
    }
    const rows = await pollRows(ch, [payload.id], (r) => r.length >= 4);
    expect(rows).toHaveLength(4);
    const byName = new Map(rows.map((r) => [r.destination, r]));
    for (const d of destinations) expect(byName.get(d.name)).toMatchObject({ outcome: 'refused', status: 0 });
    expect(byName.get('loopback')!.error).toMatch(
      /^Refused to deliver to http:\/\/127\.0\.0\.1:\d+\/: it resolves to 127\.0\.0\.1, a loopback address; .*NOTIFIER_ALLOWED_NETWORKS/,
    );
    expect(byName.get('by-name')!.error).toMatch(/a loopback address/);
    expect(byName.get('metadata')!.error).toContain('169.254.169.254, a link-local address');
    expect(byName.get('internal')!.error).toContain('10.0.0.1, a private address');

    // The control: the same receiver, once allowed, is reached (so the connection count above means something).
    await rig.stop();
    rig = await startNotifierRig({
      redis,
      clickhouse: ch,
      destinations: [webhook('loopback', local.url)],
      allowNetworks: ['127.0.0.1/32'],
    });
    const next = budgetAlert(freshCustomer(), '100');
    await rig.send(next);
    expect(await rig.settled(next.id, 'loopback')).toBe('completed');
    expect(local.connections()).toBeGreaterThan(0);
    expect(local.requests.map((r) => r.verified)).toEqual([
      { id: next.id, timestampSeconds: expect.any(Number) },
    ]);
  });
});

describe('notifier: routing', () => {
  it('sends each destination exactly what its match selects, in the shape Slack and PagerDuty document', async () => {
    const [all, critical, budgetA, resolutions, runaways] = await Promise.all(
      Array.from({ length: 5 }, () => receiver({ secrets: [secret] })),
    );
    const slack = await receiver();
    const pagerduty = await receiver({ reply: () => ({ status: 202 }) });
    const a = freshCustomer();
    const b = freshCustomer();
    rig = await startNotifierRig({
      redis,
      clickhouse: ch,
      destinations: [
        webhook('all', all!.url),
        webhook('critical', critical!.url, { min_severity: 'critical' }),
        webhook('budget-a', budgetA!.url, { rules: ['budget'], customers: [a.customer_id] }),
        webhook('resolutions', resolutions!.url, { events: ['resolved'] }),
        webhook('runaways', runaways!.url, { rules: ['runaway'] }),
        { name: 'slack', kind: 'slack', url: slack.url, match: { customers: [a.customer_id] } },
        {
          name: 'pagerduty',
          kind: 'pagerduty',
          routing_key: 'R0UT1NGKEY',
          url: pagerduty.url,
          match: { min_severity: 'critical' },
        },
      ],
    });
    const aInfo = budgetAlert(a, '50');
    const aCritical = budgetAlert(a, '100');
    const bWarning = budgetAlert(b, '80');
    const runaway = runawayAlert();
    const aResolved = budgetAlert(a, '100', 'resolved');
    expect(aResolved.alert_id).toBe(aCritical.alert_id);
    expect(aResolved.id).toBe(`${aCritical.alert_id}-resolved`);
    const sent = [aInfo, aCritical, bWarning, runaway, aResolved];
    for (const p of sent) await rig.send(p);

    const expected: Record<string, AlertPayload[]> = {
      all: sent,
      critical: [aCritical, runaway, aResolved],
      'budget-a': [aInfo, aCritical, aResolved],
      resolutions: [aResolved],
      runaways: [runaway],
      slack: [aInfo, aCritical, aResolved],
      pagerduty: [aCritical, runaway, aResolved],
    };
    const total = Object.values(expected).reduce((n, list) => n + list.length, 0);
    const rows = await pollRows(
      ch,
      sent.map((p) => p.id),
      (r) => r.length >= total,
    );
    await sleep(1_000);
    expect(rows.every((r) => r.outcome === 'delivered')).toBe(true);
    const recorded = (
      await pollRows(
        ch,
        sent.map((p) => p.id),
        () => true,
      )
    ).map((r) => `${r.destination} ${r.message_id}`);
    const wanted = Object.entries(expected).flatMap(([d, list]) => list.map((p) => `${d} ${p.id}`));
    expect(recorded.sort()).toEqual(wanted.sort());

    // Webhooks: exactly the matching messages, each once, each signed.
    const ids = (r: Receiver) => r.requests.map((x) => x.headers['webhook-id']).sort();
    const want = (d: string) => expected[d]!.map((p) => p.id).sort();
    expect(ids(all!)).toEqual(want('all'));
    expect(ids(critical!)).toEqual(want('critical'));
    expect(ids(budgetA!)).toEqual(want('budget-a'));
    expect(ids(resolutions!)).toEqual(want('resolutions'));
    expect(ids(runaways!)).toEqual(want('runaways'));
    for (const r of [all, critical, budgetA, resolutions, runaways]) {
      for (const x of r!.requests) expect(x.verified).toMatchObject({ id: x.headers['webhook-id'] });
    }

    // Slack: an incoming-webhook message with `text` and Block Kit `blocks`, never a signature.
    expect(slack.requests).toHaveLength(3);
    for (const x of slack.requests) {
      expect(x.headers['content-type']).toBe('application/json');
      expect(x.headers['webhook-signature']).toBeUndefined();
      const body = x.json as { text: string; blocks: Array<Record<string, unknown>> };
      expect(Object.keys(body).sort()).toEqual(['blocks', 'text']);
      const p = sent.find((s) => body.text.endsWith(`: ${s.summary}`) && slackIs(x, s))!;
      expect(p, body.text).toBeDefined();
      expect(body.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
      expect(body.blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: p.summary } });
      expect(JSON.stringify(body.blocks.at(-1))).toContain(p.alert_id);
    }
    expect(slack.requests.map((x) => slackKey(x)).sort()).toEqual(
      [aInfo, aCritical, aResolved].map((p) => `${p.type} ${p.alert_id} ${p.threshold}`).sort(),
    );

    // PagerDuty Events v2: trigger with dedup_key = alert id; the resolution resolves the same key.
    expect(pagerduty.requests).toHaveLength(3);
    const events = pagerduty.requests.map((x) => x.json as Record<string, unknown>);
    const trigger = (p: AlertPayload) =>
      events.find((e) => e.event_action === 'trigger' && e.dedup_key === p.alert_id);
    expect(trigger(aCritical)).toEqual({
      routing_key: 'R0UT1NGKEY',
      event_action: 'trigger',
      dedup_key: aCritical.alert_id,
      payload: {
        summary: aCritical.summary,
        source: 'burnrate',
        severity: 'critical',
        timestamp: aCritical.at,
        component: a.customer_id,
        group: 'budget',
        class: 'budget 100%',
        custom_details: expect.objectContaining({ subject: aCritical.subject, sql: aCritical.sql }),
      },
    });
    expect(trigger(runaway)).toMatchObject({ payload: { component: runaway.subject, group: 'runaway' } });
    expect(events.filter((e) => e.event_action === 'resolve')).toEqual([
      { routing_key: 'R0UT1NGKEY', event_action: 'resolve', dedup_key: aCritical.alert_id },
    ]);
  });
});

function slackText(x: Received): string {
  return (x.json as { text: string }).text;
}

/** What a Slack message is about: resolved or fired, which alert, which threshold. */
function slackKey(x: Received): string {
  const text = slackText(x);
  const alertId = /alert `([^`]+)`/.exec(JSON.stringify(x.json))![1];
  const threshold = / · budget · ([^:]+):/.exec(text)![1];
  return `${text.startsWith(':white_check_mark: Resolved') ? 'alert.resolved' : 'alert.fired'} ${alertId} ${threshold}`;
}

function slackIs(x: Received, p: AlertPayload): boolean {
  return slackKey(x) === `${p.type} ${p.alert_id} ${p.threshold}`;
}
