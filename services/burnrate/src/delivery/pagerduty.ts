import type { AlertPayload, Destination } from '@burnrate/core';
import type { OutgoingRequest } from './destination-request.js';

const SEVERITY = { info: 'info', warning: 'warning', critical: 'critical' } as const;

/**
 * PagerDuty Events API v2: `trigger` when an alert fires, `resolve` when it resolves, both with
 * dedup_key = the alert id, so PagerDuty keeps one incident per crossing whatever the retries.
 */
export function pagerDutyRequest(
  d: Extract<Destination, { kind: 'pagerduty' }>,
  p: AlertPayload,
): OutgoingRequest {
  const resolved = p.type === 'alert.resolved';
  const body = resolved
    ? { routing_key: d.routing_key, event_action: 'resolve', dedup_key: p.alert_id }
    : {
        routing_key: d.routing_key,
        event_action: 'trigger',
        dedup_key: p.alert_id,
        payload: {
          summary: p.summary.slice(0, 1024),
          source: 'burnrate',
          severity: SEVERITY[p.severity],
          timestamp: p.at,
          component: p.customer?.id ?? p.subject,
          group: p.rule,
          class: `${p.rule} ${p.threshold}`,
          custom_details: {
            subject: p.subject,
            period: p.period,
            numbers: p.numbers,
            customer: p.customer,
            breakdown: p.breakdown,
            run: p.run,
            sql: p.sql,
          },
        },
      };
  return { url: d.url, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
