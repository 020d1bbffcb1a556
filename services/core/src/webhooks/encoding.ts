import { createHmac, randomBytes } from 'node:crypto';
import { BurnrateError } from '../errors.js';

/** The prefix Standard Webhooks puts on HMAC secrets so they are recognisable wherever they are pasted. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** Bytes of randomness in a generated secret; the spec asks for 24 to 64. */
const SECRET_BYTES = 32;
const SIGNATURE_BYTES = 32;

// Standard base64 with optional padding. Node's decoder skips characters it does not know, so a
// typo would silently become a different key; checking the alphabet first makes it an error.
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A new HMAC secret in the Standard Webhooks form: `whsec_` and the base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/**
 * The HMAC keys inside secrets: the base64 after `whsec_`. A secret without the prefix is accepted,
 * and so is missing padding, as the spec's reference libraries do. All are decoded up front, so a
 * misconfigured secret fails even when another one would have matched.
 */
export function webhookKeys(secrets: readonly string[]): Buffer[] {
  if (secrets.length === 0) {
    throw new BurnrateError(
      'invalid_webhook_secret',
      'secrets is empty: at least one webhook secret is needed.',
      {
        field: 'secrets',
      },
    );
  }
  return secrets.map((secret, index) => {
    const encoded = secret.startsWith(WEBHOOK_SECRET_PREFIX)
      ? secret.slice(WEBHOOK_SECRET_PREFIX.length)
      : secret;
    // Unpadded input is complete unless it leaves one lone character, which encodes no whole byte.
    const complete = encoded.includes('=') ? encoded.length % 4 === 0 : encoded.length % 4 !== 1;
    if (!BASE64.test(encoded) || !complete) {
      // Never echo the secret itself: messages end up in logs.
      throw new BurnrateError(
        'invalid_webhook_secret',
        `secrets[${index}] is not a webhook secret: expected whsec_ followed by non-empty base64.`,
        { field: 'secrets' },
      );
    }
    return Buffer.from(encoded, 'base64');
  });
}

/** HMAC-SHA256 of `id.timestamp.body`, the string Standard Webhooks signs. */
export function webhookHmac(key: Buffer, id: string, timestamp: string, body: Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest();
}

/**
 * The decoded `v1,` signatures of a webhook-signature header. Other versions (`v1a,` is ed25519) are
 * skipped, as is anything that cannot be an HMAC-SHA256, so the comparison always sees 32 bytes.
 */
export function v1Signatures(header: string): Buffer[] {
  const out: Buffer[] = [];
  // A trailing comma appears when Node joins a repeated header with ", "; base64 never ends in one.
  for (const token of header.split(/\s+/)) {
    const [version, encoded] = token.replace(/,$/, '').split(',', 2);
    if (version !== 'v1' || encoded === undefined || !BASE64.test(encoded)) continue;
    const signature = Buffer.from(encoded, 'base64');
    if (signature.length === SIGNATURE_BYTES) out.push(signature);
  }
  return out;
}

/**
 * One header's value with names compared case-insensitively, repeated values joined with ", " as
 * Node does; undefined when absent or blank.
 */
export function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    values.push(...(Array.isArray(value) ? value : [value]));
  }
  const joined = values.join(', ').trim();
  return joined === '' ? undefined : joined;
}
