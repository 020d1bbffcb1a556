import type { AlertPayload, Destination } from '@burnrate/core';
import type { OutgoingRequest } from './destination-request.js';

/** Slack mrkdwn treats &, < and > as control characters (<!channel>, <url|text>): escape what events carry. */
const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** Text inside a `code span` must not close it. */
const code = (text: string) => esc(text).replace(/`/g, "'");

const ICON = { info: ':information_source:', warning: ':warning:', critical: ':rotating_light:' } as const;

/**
 * A Slack incoming-webhook message that reads well in a channel: the summary as the headline, the
 * numbers that matter as fields, the top spend behind it, and the SQL to dig further.
 */
export function slackRequest(d: Extract<Destination, { kind: 'slack' }>, p: AlertPayload): OutgoingRequest {
  const resolved = p.type === 'alert.resolved';
  const headline = `${resolved ? ':white_check_mark: Resolved' : `${ICON[p.severity]} ${p.severity.toUpperCase()}`} · ${p.rule.replace('_', ' ')} · ${p.threshold}`;
  const fields: string[] = [];
  if (p.customer) {
    fields.push(`*Customer*\n${esc(p.customer.name || p.customer.id)} (\`${code(p.customer.id)}\`)`);
    fields.push(
      `*Plan*\n${p.customer.plan_kind} · ${p.customer.plan_revenue} ${p.customer.plan_currency}/month`,
    );
  }
  if (p.numbers.value_usd !== null) {
    fields.push(`*Value*\n$${p.numbers.value_usd}`);
    fields.push(`*Against*\n$${p.numbers.limit_usd}${p.numbers.ratio ? ` (${p.numbers.ratio}×)` : ''}`);
  } else {
    fields.push(`*${p.numbers.unit}*\n${p.numbers.value} (cap ${p.numbers.limit})`);
  }
  const top = p.breakdown
    ? [
        ...p.breakdown.workflows.slice(0, 3).map((w) => `• workflow *${esc(w.name)}*: $${w.cost_usd}`),
        ...p.breakdown.models.slice(0, 3).map((m) => `• model *${esc(m.name)}*: $${m.cost_usd}`),
      ]
    : [];
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: headline.slice(0, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: esc(p.summary) } },
    { type: 'section', fields: fields.slice(0, 10).map((text) => ({ type: 'mrkdwn', text })) },
  ];
  if (top.length)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Behind the spend*\n${top.join('\n')}` } });
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `period ${p.period} · alert \`${p.alert_id}\` · dig in: \`${code(p.sql.slice(0, 2500))}\``,
      },
    ],
  });
  return {
    url: d.url,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: `${headline}: ${esc(p.summary)}`, blocks }),
  };
}
