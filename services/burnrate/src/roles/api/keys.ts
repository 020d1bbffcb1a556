import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '@burnrate/core';
import { z } from 'zod';

/** What a key may do: send events (POST /v1/events, /v1/traces), read budgets, read forecasts. */
export const KEY_SCOPES = ['ingest', 'budget', 'forecast'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

/** An API key as the keys file holds it: never the key itself, only its SHA-256. */
export interface ApiKey {
  id: string;
  sha256: Buffer;
  scopes: ReadonlySet<KeyScope>;
  /** The customer_refs it may act for; null = every customer (a service emitting for all). */
  customers: ReadonlySet<string> | null;
  /** When set, events sent with this key must name this service (or leave it out: it is filled in). */
  service: string | null;
}

/** `brk_<id>_<43 base64url characters = 256 random bits>`. */
const KEY = /^brk_([a-z0-9][a-z0-9-]{0,62})_([A-Za-z0-9_-]{43})$/;
const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

const keySchema = z.strictObject({
  id: z.string().regex(ID, 'must be lower-case letters, digits and "-", at most 63'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the 64 hex digits `burnrate keys create` printed'),
  scopes: z.array(z.enum(KEY_SCOPES)).min(1),
  customers: z.array(z.string().min(1)).min(1),
  service: z.string().min(1).optional(),
  /** Free text for people: who holds it, which ticket. */
  note: z.string().optional(),
});
const keysFileSchema = z.strictObject({
  version: z.literal(1).optional(),
  keys: z.array(keySchema),
});

/** The keys in force, by id. */
export type KeyRing = ReadonlyMap<string, ApiKey>;

/** Validates a parsed keys file (BURNRATE_KEYS_FILE). */
export function parseKeysFile(value: unknown, file: string): KeyRing {
  const result = keysFileSchema.safeParse(value ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'the file';
    throw new ConfigError(
      'BURNRATE_KEYS_FILE',
      `BURNRATE_KEYS_FILE (${file}) is invalid: ${where} ${issue.message}.`,
    );
  }
  const ring = new Map<string, ApiKey>();
  result.data.keys.forEach((k, i) => {
    if (ring.has(k.id)) {
      throw new ConfigError(
        'BURNRATE_KEYS_FILE',
        `BURNRATE_KEYS_FILE (${file}) is invalid: keys.${i}.id repeats "${k.id}".`,
      );
    }
    ring.set(k.id, {
      id: k.id,
      sha256: Buffer.from(k.sha256, 'hex'),
      scopes: new Set(k.scopes),
      customers: k.customers.includes('*') ? null : new Set(k.customers),
      service: k.service ?? null,
    });
  });
  return ring;
}

/**
 * The key a bearer token is, or null. The id inside the token finds the entry; the whole token's
 * SHA-256 is compared in constant time. A plain SHA-256 suffices at rest because keys are 256 random
 * bits: there is nothing to guess a dictionary from, unlike passwords.
 */
export function verifyKey(ring: KeyRing, token: string): ApiKey | null {
  const m = KEY.exec(token);
  if (!m) return null;
  const key = ring.get(m[1]!);
  const digest = createHash('sha256').update(token).digest();
  // Compare even when the id is unknown, so the answer takes the same time either way.
  const expected = key?.sha256 ?? digest.map((b) => b ^ 0xff);
  return timingSafeEqual(digest, expected) && key ? key : null;
}

/** Whether the key may act for this customer_ref. */
export function keyAllows(key: ApiKey, customerRef: string): boolean {
  return key.customers === null || key.customers.has(customerRef);
}

/** A new key and the entry to put in the keys file. */
export function createKey(o: { id: string; scopes: KeyScope[]; customers: string[]; service?: string }): {
  key: string;
  entry: Record<string, unknown>;
} {
  if (!ID.test(o.id))
    throw new ConfigError('id', `--id must be lower-case letters, digits and "-" (got "${o.id}").`);
  const key = `brk_${o.id}_${randomBytes(32).toString('base64url')}`;
  return {
    key,
    entry: {
      id: o.id,
      sha256: createHash('sha256').update(key).digest('hex'),
      scopes: o.scopes,
      customers: o.customers,
      ...(o.service ? { service: o.service } : {}),
    },
  };
}
