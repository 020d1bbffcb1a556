import { timingSafeEqual } from 'node:crypto';
import { BurnrateError, ConfigError } from '../errors.js';
import { headerValue, v1Signatures, webhookHmac, webhookKeys } from './encoding.js';

export { generateWebhookSecret, WEBHOOK_SECRET_PREFIX } from './encoding.js';

/** How far a webhook-timestamp may be from the receiver's clock, either way: the spec's five minutes. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * The three headers Standard Webhooks sends, as signWebhook returns them. A type rather than an
 * interface so it is assignable to a plain header record (fetch, verifyWebhook).
 */
export type WebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

export interface SignWebhookOptions {
  /** Message id, reused on every retry of the same message so receivers can deduplicate. */
  id: string;
  /** Unix time of this delivery attempt, in whole seconds. */
  timestampSeconds: number;
  /** The exact request body that will be sent. */
  body: string;
  /** Every secret to sign with; during a rotation, the old one and the new one. */
  secrets: readonly string[];
}

export interface VerifyWebhookOptions {
  /** Request headers; names are matched in any case (Node's IncomingMessage has them lower-case). */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body bytes as received, before any JSON parsing: re-serialised JSON does not verify. */
  body: string | Buffer;
  /** Every secret the receiver accepts; during a rotation, the old one and the new one. */
  secrets: readonly string[];
  /** Largest accepted distance between webhook-timestamp and now; WEBHOOK_TOLERANCE_SECONDS by default. */
  toleranceSeconds?: number;
  /** The receiver's clock in Unix seconds; the system clock by default. Tests pass a fixed one. */
  nowSeconds?: number;
}

/** The request is not an authentic, fresh Standard Webhooks message. Answer 4xx; never retriable. */
export class WebhookVerificationError extends BurnrateError {
  constructor(code: string, message: string, header: string) {
    super(code, message, { field: header });
  }
}

// Visible ASCII without '.': the id is the first part of `id.timestamp.body`, and a dot in it would
// let one signed string be split into a different (id, timestamp, body) triple (spec, "Signature scheme").
const WEBHOOK_ID = /^[\x21-\x2d\x2f-\x7e]+$/;
const DIGITS = /^[0-9]+$/;

/** The three Standard Webhooks headers for one delivery attempt, signed with every secret given. */
export function signWebhook(options: SignWebhookOptions): WebhookHeaders {
  const { id, timestampSeconds, body } = options;
  if (!WEBHOOK_ID.test(id)) {
    throw new BurnrateError(
      'invalid_webhook_id',
      'id must be non-empty printable ASCII without spaces or dots, as it is sent in the webhook-id header.',
      { field: 'id' },
    );
  }
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new BurnrateError(
      'invalid_webhook_timestamp',
      `timestampSeconds must be a non-negative whole number of seconds, got ${timestampSeconds}.`,
      { field: 'timestampSeconds' },
    );
  }
  const timestamp = String(timestampSeconds);
  const signatures = webhookKeys(options.secrets).map(
    (key) => 'v1,' + webhookHmac(key, id, timestamp, Buffer.from(body, 'utf8')).toString('base64'),
  );
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signatures.join(' ') };
}

/**
 * Checks a received Standard Webhooks request and returns its id (use it to drop duplicates) and
 * timestamp. Throws WebhookVerificationError when the request must be refused, and a plain
 * BurnrateError ('invalid_webhook_secret') when the receiver's own secrets are misconfigured.
 */
export function verifyWebhook(options: VerifyWebhookOptions): { id: string; timestampSeconds: number } {
  const keys = webhookKeys(options.secrets);
  const tolerance = options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  if (!(tolerance >= 0)) {
    throw new ConfigError('toleranceSeconds', `toleranceSeconds must be zero or more, got ${tolerance}.`);
  }
  const id = requiredHeader(options.headers, 'webhook-id');
  const timestamp = requiredHeader(options.headers, 'webhook-timestamp');
  const signatureHeader = requiredHeader(options.headers, 'webhook-signature');

  const timestampSeconds = Number(timestamp);
  if (!DIGITS.test(timestamp) || !Number.isSafeInteger(timestampSeconds)) {
    throw new WebhookVerificationError(
      'webhook_invalid_timestamp',
      'The webhook-timestamp header is not a whole number of Unix seconds.',
      'webhook-timestamp',
    );
  }
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (now - timestampSeconds > tolerance) {
    throw new WebhookVerificationError(
      'webhook_timestamp_too_old',
      `The webhook-timestamp header is ${now - timestampSeconds} s in the past, more than the ${tolerance} s allowed.`,
      'webhook-timestamp',
    );
  }
  if (timestampSeconds - now > tolerance) {
    throw new WebhookVerificationError(
      'webhook_timestamp_too_new',
      `The webhook-timestamp header is ${timestampSeconds - now} s in the future, more than the ${tolerance} s allowed.`,
      'webhook-timestamp',
    );
  }

  const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
  // The timestamp is signed as the header text received (digits only), exactly what the sender signed.
  const expected = keys.map((key) => webhookHmac(key, id, timestamp, body));
  for (const candidate of v1Signatures(signatureHeader)) {
    // Candidates are all 32 bytes (v1Signatures drops other lengths, which are public anyway), so
    // timingSafeEqual never throws; comparing in constant time keeps this from being a signing oracle.
    if (expected.some((e) => timingSafeEqual(e, candidate))) return { id, timestampSeconds };
  }
  throw new WebhookVerificationError(
    'webhook_invalid_signature',
    'No v1 signature in the webhook-signature header matches the body and any configured secret.',
    'webhook-signature',
  );
}

function requiredHeader(headers: VerifyWebhookOptions['headers'], name: string): string {
  const value = headerValue(headers, name);
  if (value === undefined) {
    throw new WebhookVerificationError(
      'webhook_missing_header',
      `The ${name} header is missing or empty.`,
      name,
    );
  }
  return value;
}
