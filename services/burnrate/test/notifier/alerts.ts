import { randomUUID } from 'node:crypto';
import {
  type AlertPayload,
  buildPayload,
  type CustomerMeta,
  DEFAULT_RULES,
  evaluateCustomer,
  evaluateRun,
} from '@burnrate/core';
import { customerMeta, customerSnapshot } from '../../../core/test/fixtures/aggregates.js';

/** Alert payloads made the way the aggregator makes them: a rule's finding → buildPayload. */
const USD = 1_000_000_000n;
/** When the alerts were fired (the payload's `at`): fixed, so `burnrate alerts list` ranges are exact. */
export const FIRED_AT_MS = Date.parse('2026-11-20T12:00:00Z');

/** A customer no other test uses, so its alert ids (and job ids) are new. */
export function freshCustomer(id = `cust-${randomUUID().slice(0, 8)}`): CustomerMeta {
  return customerMeta({ customer_id: id, customer_ref: `org_${id}`, name: `Customer ${id}` });
}

/**
 * The budget alert of one threshold for a customer that has spent $160 of a $150 budget: 50 % is
 * `info`, 80 % `warning`, 100 % `critical`.
 */
export function budgetAlert(
  customer: CustomerMeta,
  percent: '50' | '80' | '100',
  event: 'fired' | 'resolved' = 'fired',
  atMs = FIRED_AT_MS,
): AlertPayload {
  const finding = evaluateCustomer(
    customerSnapshot(FIRED_AT_MS, customer, { cost: 160n * USD }),
    DEFAULT_RULES,
  ).find((f) => f.rule === 'budget' && f.threshold === `${percent}%`);
  if (!finding) throw new Error(`no budget finding at ${percent}%`);
  return buildPayload({ finding, event, atMs, database: 'burnrate', customer });
}

/** A runaway-run alert (critical, no customer block) for a run of 60 steps. */
export function runawayAlert(runId = `run-${randomUUID().slice(0, 8)}`, atMs = FIRED_AT_MS): AlertPayload {
  const run = {
    runId,
    customer: 'acme',
    planKind: 'flat_rate',
    workflow: 'agent',
    cost: USD,
    tokens: 1n,
    steps: 60,
    retries: 0,
    maxDepth: 1,
    firstSeenMs: atMs - 60_000,
    lastSeenMs: atMs,
  };
  const [finding] = evaluateRun(run, DEFAULT_RULES);
  if (!finding) throw new Error('no runaway finding');
  return buildPayload({ finding, event: 'fired', atMs, database: 'burnrate', run });
}
