import { createHash } from 'node:crypto';
import type { Finding } from '../rules/snapshots.js';

/** fired: the condition crossed its threshold; resolved: it fell back below the hysteresis band. */
export type AlertEvent = 'fired' | 'resolved';
export type AlertState = 'firing' | 'resolved';

/**
 * The alert's id: a digest of (rule, subject, threshold, period), so the same crossing always gets
 * the same id — the BullMQ jobId, the webhook-id and the PagerDuty dedup_key — whoever computes it,
 * after any replay or restart.
 */
export function alertId(f: Pick<Finding, 'rule' | 'subject' | 'threshold' | 'period'>): string {
  const digest = createHash('sha256')
    .update(`${f.rule}\u0000${f.subject}\u0000${f.threshold}\u0000${f.period}`)
    .digest('hex');
  return `al_${digest.slice(0, 32)}`;
}

/** The id of one message about an alert (its webhook-id): the alert id, or `<alert id>-resolved`. */
export function messageId(id: string, event: AlertEvent): string {
  return event === 'fired' ? id : `${id}-resolved`;
}

/**
 * What to do about a finding given the alert's stored state: fire once per (rule, subject, threshold,
 * period); resolve a firing alert whose condition has cleared, for rules where that makes sense.
 */
export function decide(f: Finding, state: AlertState | undefined): AlertEvent | null {
  if (state === undefined && f.state === 'active') return 'fired';
  if (state === 'firing' && f.resolvable && f.state === 'clear') return 'resolved';
  return null;
}

/**
 * The period before a resolvable finding's: the previous UTC day for a spike, the previous billing
 * period for a forecast. An alert of that period still firing is the same episode: a spike that
 * lasts past midnight is not paged again, and resolves when it clears; a forecast ends with its period.
 */
export function previousPeriod(f: Pick<Finding, 'rule' | 'period'>): string | null {
  const start = Date.parse(`${f.period}T00:00:00Z`);
  if (Number.isNaN(start)) return null;
  const d = new Date(start);
  if (f.rule === 'spike') return new Date(start - 86_400_000).toISOString().slice(0, 10);
  if (f.rule === 'forecast') {
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, d.getUTCDate()))
      .toISOString()
      .slice(0, 10);
  }
  return null;
}
