import type { AlertPayload, Destination } from '@burnrate/core';
import { pagerDutyRequest } from './pagerduty.js';
import { slackRequest } from './slack.js';
import { webhookRequest } from './webhook.js';

/** One HTTP request to make for one destination. */
export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The request for a message to a destination, by its kind (one module per wire format). */
export function destinationRequest(d: Destination, payload: AlertPayload, nowMs: number): OutgoingRequest {
  switch (d.kind) {
    case 'webhook':
      return webhookRequest(d, payload, nowMs);
    case 'slack':
      return slackRequest(d, payload);
    case 'pagerduty':
      return pagerDutyRequest(d, payload);
  }
}
