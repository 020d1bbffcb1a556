import { describe, expect, it } from 'vitest';
import { createKey, keyAllows, parseKeysFile, verifyKey } from '../../src/roles/api/keys.js';

describe('API keys', () => {
  const a = createKey({ id: 'checkout', scopes: ['ingest', 'budget'], customers: ['*'] });
  const b = createKey({ id: 'acme-agent', scopes: ['budget'], customers: ['acme'], service: 'agent' });
  const ring = parseKeysFile({ version: 1, keys: [a.entry, b.entry] }, 'keys.yaml');

  it('holds only hashes, and finds a key by its token', () => {
    // The secret is base64url, so it may itself contain "_": cut it by the prefix's length.
    expect(JSON.stringify([a.entry, b.entry])).not.toContain(a.key.slice('brk_checkout_'.length));
    expect(a.key).toMatch(/^brk_checkout_[A-Za-z0-9_-]{43}$/);
    expect(verifyKey(ring, a.key)?.id).toBe('checkout');
    expect(verifyKey(ring, b.key)).toMatchObject({ id: 'acme-agent', service: 'agent' });
  });

  it('refuses a wrong secret, another id with a right secret, and garbage', () => {
    const secret = a.key.slice('brk_checkout_'.length);
    const flipped = secret[0] === 'A' ? `B${secret.slice(1)}` : `A${secret.slice(1)}`;
    expect(verifyKey(ring, `brk_checkout_${flipped}`)).toBeNull();
    expect(verifyKey(ring, `brk_acme-agent_${secret}`)).toBeNull();
    expect(verifyKey(ring, `brk_nobody_${secret}`)).toBeNull();
    expect(verifyKey(ring, 'Bearer')).toBeNull();
    expect(verifyKey(ring, '')).toBeNull();
  });

  it('scopes keys to customers', () => {
    expect(keyAllows(verifyKey(ring, a.key)!, 'anyone')).toBe(true);
    expect(keyAllows(verifyKey(ring, b.key)!, 'acme')).toBe(true);
    expect(keyAllows(verifyKey(ring, b.key)!, 'globex')).toBe(false);
  });

  it('refuses a bad file with the field at fault', () => {
    const bad = (keys: unknown[]) => () => parseKeysFile({ keys }, 'k.yaml');
    expect(bad([{ ...a.entry, scopes: ['admin'] }])).toThrow(/keys\.0\.scopes\.0/);
    expect(bad([{ ...a.entry, sha256: 'abc' }])).toThrow(/keys\.0\.sha256 must be the 64 hex digits/);
    expect(bad([a.entry, a.entry])).toThrow('keys.1.id repeats "checkout"');
    expect(bad([{ ...a.entry, key: a.key }])).toThrow(/BURNRATE_KEYS_FILE \(k\.yaml\) is invalid/);
    expect(() => parseKeysFile({ keys: [], extra: 1 }, 'k.yaml')).toThrow(/BURNRATE_KEYS_FILE/);
  });
});
