import { generateWebhookSecret, verifyWebhook } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { destinationRequest } from '../../src/delivery/destination-request.js';
import { pagerDutyRequest } from '../../src/delivery/pagerduty.js';
import { slackRequest } from '../../src/delivery/slack.js';
import { budgetAlert, freshCustomer, runawayAlert } from './alerts.js';

const slack = { name: 'oncall', kind: 'slack', url: 'https://hooks.slack.test/services/T/B/x' } as const;
const pd = {
  name: 'pd',
  kind: 'pagerduty',
  routing_key: 'R0UT1NGKEY',
  url: 'https://events.pagerduty.com/v2/enqueue',
} as const;

type Block = { type: string; text?: { type: string; text: string }; fields?: Array<{ text: string }> };
const slackBody = (r: { body: string }) => JSON.parse(r.body) as { text: string; blocks: Block[] };

describe('Slack message', () => {
  it('headlines severity, rule and threshold, and shows customer, plan and money as fields', () => {
    const customer = freshCustomer('whale');
    const p = {
      ...budgetAlert(customer, '100'),
      breakdown: {
        workflows: [{ name: 'review-agent', cost_nanos: '1', cost_usd: '120.00', events: 3 }],
        models: [{ name: 'openai/gpt-4o', cost_nanos: '1', cost_usd: '160.00', events: 9 }],
      },
    };
    const r = slackRequest(slack, p);
    expect(r.url).toBe(slack.url);
    expect(r.headers).toEqual({ 'content-type': 'application/json' });
    const body = slackBody(r);
    expect(body.text).toBe(`:rotating_light: CRITICAL · budget · 100%: ${p.summary}`);
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'context']);
    expect(body.blocks[0]!.text).toEqual({
      type: 'plain_text',
      text: ':rotating_light: CRITICAL · budget · 100%',
      emoji: true,
    });
    expect(body.blocks[2]!.fields!.map((f) => f.text)).toEqual([
      '*Customer*\nCustomer whale (`whale`)',
      '*Plan*\nflat_rate · 200.00 USD/month',
      '*Value*\n$160.00',
      '*Against*\n$150.00 (1.06×)',
    ]);
    expect(body.blocks[3]!.text!.text).toBe(
      '*Behind the spend*\n• workflow *review-agent*: $120.00\n• model *openai/gpt-4o*: $160.00',
    );
    expect(JSON.stringify(body.blocks[4])).toContain(`alert \`${p.alert_id}\``);
  });

  it('says Resolved for a resolution, and shows counts (not money) for a runaway run', () => {
    const resolved = slackBody(slackRequest(slack, budgetAlert(freshCustomer(), '80', 'resolved')));
    expect(resolved.text.startsWith(':white_check_mark: Resolved · budget · 80%: ')).toBe(true);
    const run = runawayAlert('run-7');
    const body = slackBody(slackRequest(slack, run));
    expect(body.text.startsWith(':rotating_light: CRITICAL · runaway · caps: Run run-7')).toBe(true);
    expect(body.blocks[2]!.fields!.map((f) => f.text)).toEqual(['*steps*\n60 (cap 50)']);
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context']);
  });
});

describe('PagerDuty event', () => {
  it('triggers with dedup_key = alert id and a summary within the 1024 characters PagerDuty allows', () => {
    const base = budgetAlert(freshCustomer(), '50');
    const p = { ...base, summary: 'x'.repeat(2_000) };
    const r = pagerDutyRequest(pd, p);
    expect(r.url).toBe(pd.url);
    const body = JSON.parse(r.body);
    expect(body).toMatchObject({
      routing_key: 'R0UT1NGKEY',
      event_action: 'trigger',
      dedup_key: base.alert_id,
      payload: { severity: 'info', source: 'burnrate', group: 'budget', class: 'budget 50%' },
    });
    expect(body.payload.summary).toHaveLength(1024);
  });

  it('resolves the same dedup_key, with nothing else in the event', () => {
    const fired = budgetAlert(freshCustomer(), '100');
    const resolved = { ...fired, type: 'alert.resolved' as const, id: `${fired.alert_id}-resolved` };
    expect(JSON.parse(pagerDutyRequest(pd, resolved).body)).toEqual({
      routing_key: 'R0UT1NGKEY',
      event_action: 'resolve',
      dedup_key: fired.alert_id,
    });
  });
});

describe('webhook request', () => {
  it('is the payload as JSON, signed for the attempt time with webhook-id = message id', () => {
    const secret = generateWebhookSecret();
    const p = budgetAlert(freshCustomer(), '80');
    const at = Date.parse('2026-11-20T12:00:05.900Z');
    const r = destinationRequest(
      { name: 'w', kind: 'webhook', url: 'https://example.com/h', secrets: [secret] },
      p,
      at,
    );
    expect(r.body).toBe(JSON.stringify(p));
    expect(r.headers['webhook-id']).toBe(p.id);
    expect(r.headers['webhook-timestamp']).toBe(String(Math.floor(at / 1000)));
    expect(
      verifyWebhook({ headers: r.headers, body: r.body, secrets: [secret], nowSeconds: at / 1000 }),
    ).toEqual({
      id: p.id,
      timestampSeconds: Math.floor(at / 1000),
    });
  });

  it('escapes what events carry, so a run id cannot ping a channel or hide a link', () => {
    const run = runawayAlert('<!channel> <https://evil.example|log in> `x`');
    const body = JSON.parse(
      slackRequest({ name: 's', kind: 'slack', url: 'https://hooks.slack.com/x' }, run).body,
    );
    const text = JSON.stringify(body);
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<https://evil');
    expect(text).toContain('&lt;!channel&gt;');
  });
});
