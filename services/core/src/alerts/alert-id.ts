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
