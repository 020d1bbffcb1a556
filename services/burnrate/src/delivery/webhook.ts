import { type AlertPayload, type Destination, signWebhook } from '@burnrate/core';
import type { OutgoingRequest } from './destination-request.js';

/**
 * A generic webhook: the alert payload as JSON, signed per Standard Webhooks. The webhook-id is the
 * message id on every attempt (receivers deduplicate on it); the timestamp is the attempt's; with two
 * secrets (a rotation) the signature header carries both signatures.
 */
export function webhookRequest(
  d: Extract<Destination, { kind: 'webhook' }>,
  payload: AlertPayload,
  nowMs: number,
): OutgoingRequest {
  const body = JSON.stringify(payload);
  return {
    url: d.url,
    headers: {
      'content-type': 'application/json',
      ...signWebhook({
        id: payload.id,
        timestampSeconds: Math.floor(nowMs / 1000),
        body,
        secrets: d.secrets,
      }),
    },
    body,
  };
}
