import {
  BurnrateError,
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
  WEBHOOK_TOLERANCE_SECONDS,
  WebhookVerificationError,
} from '@burnrate/core';
import { describe, expect, it } from 'vitest';

// The known-answer vector shared by the reference libraries' tests in
// github.com/standard-webhooks/standard-webhooks (libraries/python/tests/test_webhooks.py
// test_sign_function; the same values in the javascript, go, ruby, php, csharp and java tests).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestampSeconds: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const NOW = VECTOR.timestampSeconds;

function vectorHeaders(signature = VECTOR.signature): Record<string, string> {
  return { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(NOW), 'webhook-signature': signature };
}

/** The error verifyWebhook throws; fails the test when it does not throw. */
function refusal(options: Partial<Parameters<typeof verifyWebhook>[0]>): WebhookVerificationError {
  try {
    verifyWebhook({
      headers: vectorHeaders(),
      body: VECTOR.body,
      secrets: [VECTOR.secret],
      nowSeconds: NOW,
      ...options,
    });
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    return error as WebhookVerificationError;
  }
  throw new Error('verifyWebhook accepted the request');
}

describe('Standard Webhooks official vector', () => {
  it('signs exactly as the reference libraries do', () => {
    const headers = signWebhook({ ...VECTOR, secrets: [VECTOR.secret] });
    expect(headers).toEqual({
      'webhook-id': VECTOR.id,
      'webhook-timestamp': '1614265330',
      'webhook-signature': VECTOR.signature,
    });
  });

  it('signs the same with the secret without its whsec_ prefix', () => {
    const headers = signWebhook({ ...VECTOR, secrets: ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] });
    expect(headers['webhook-signature']).toBe(VECTOR.signature);
  });

  it('verifies the vector from a string and from raw bytes', () => {
    const expected = { id: VECTOR.id, timestampSeconds: VECTOR.timestampSeconds };
    for (const body of [VECTOR.body, Buffer.from(VECTOR.body)]) {
      expect(
        verifyWebhook({ headers: vectorHeaders(), body, secrets: [VECTOR.secret], nowSeconds: NOW }),
      ).toEqual(expected);
    }
  });

  it('finds the valid signature among decoys and other versions (reference multi-signature test)', () => {
    const decoy = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
    const header = [decoy, 'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=', VECTOR.signature, decoy].join(
      ' ',
    );
    expect(() =>
      verifyWebhook({
        headers: vectorHeaders(header),
        body: VECTOR.body,
        secrets: [VECTOR.secret],
        nowSeconds: NOW,
      }),
    ).not.toThrow();
  });

  it('refuses the reference libraries’ near-miss signatures', () => {
    for (const signature of [
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=', // same length, last byte differs
      'v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=', // right bytes, unknown version
      'v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=', // asymmetric scheme, not ours
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLawdd', // another length
      'v1,dawfeoifkpqwoekfpqoekf',
      'v1,invalid_signature',
      'invalid_signature',
      'v1,',
      'v1,g0hM9SsE', // a truncated prefix of the right one
    ]) {
      expect(refusal({ headers: vectorHeaders(signature) }).code).toBe('webhook_invalid_signature');
    }
  });
});

describe('verifyWebhook', () => {
  const secret = generateWebhookSecret();
  const body = '{"type":"budget.exceeded","data":{"customer_id":"c_1"}}';
  const signed = (o: Partial<Parameters<typeof signWebhook>[0]> = {}) =>
    signWebhook({ id: 'msg_1', timestampSeconds: NOW, body, secrets: [secret], ...o });

  it('refuses a tampered body, id or timestamp', () => {
    const headers = signed();
    const ok = { headers, body, secrets: [secret], nowSeconds: NOW };
    expect(verifyWebhook(ok)).toEqual({ id: 'msg_1', timestampSeconds: NOW });
    expect(() => verifyWebhook({ ...ok, body: body.replace('c_1', 'c_2') })).toThrow(
      WebhookVerificationError,
    );
    expect(() => verifyWebhook({ ...ok, body: body + '\n' })).toThrow(WebhookVerificationError);
    const badId = refusal({ ...ok, headers: { ...headers, 'webhook-id': 'msg_2' } });
    expect(badId.code).toBe('webhook_invalid_signature');
    expect(badId.field).toBe('webhook-signature');
    const badTs = refusal({ ...ok, headers: { ...headers, 'webhook-timestamp': String(NOW - 1) } });
    expect(badTs.code).toBe('webhook_invalid_signature');
  });

  it('accepts up to the tolerance and refuses beyond it, either way', () => {
    expect(WEBHOOK_TOLERANCE_SECONDS).toBe(300);
    const at = (timestampSeconds: number) => ({
      headers: signed({ timestampSeconds }),
      body,
      secrets: [secret],
      nowSeconds: NOW,
    });
    expect(() => verifyWebhook(at(NOW - 300))).not.toThrow();
    expect(() => verifyWebhook(at(NOW + 300))).not.toThrow();
    const old = refusal(at(NOW - 301));
    expect(old.code).toBe('webhook_timestamp_too_old');
    expect(old.retriable).toBe(false);
    expect(old.message).toContain('webhook-timestamp');
    expect(refusal(at(NOW + 301)).code).toBe('webhook_timestamp_too_new');
    expect(refusal({ ...at(NOW - 60), toleranceSeconds: 30 }).code).toBe('webhook_timestamp_too_old');
  });

  it('refuses a timestamp that is not whole Unix seconds', () => {
    for (const ts of ['hello', '1614265330.0', '-1614265330', '1e9', '16142653300000000000']) {
      const e = refusal({ headers: { ...vectorHeaders(), 'webhook-timestamp': ts } });
      expect(e.code).toBe('webhook_invalid_timestamp');
      expect(e.field).toBe('webhook-timestamp');
    }
  });

  it('names the missing header', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      for (const value of [undefined, '', '  ']) {
        const e = refusal({ headers: { ...vectorHeaders(), [name]: value } });
        expect(e.code).toBe('webhook_missing_header');
        expect(e.field).toBe(name);
        expect(e.message).toContain(name);
      }
    }
  });

  it('finds headers in any case and accepts array values', () => {
    const upper = {
      'Webhook-Id': VECTOR.id,
      'WEBHOOK-TIMESTAMP': String(NOW),
      'webhook-SIGNATURE': ['v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=', VECTOR.signature],
    };
    expect(
      verifyWebhook({ headers: upper, body: VECTOR.body, secrets: [VECTOR.secret], nowSeconds: NOW }).id,
    ).toBe(VECTOR.id);
    // Node joins a repeated header with ", ".
    const joined = vectorHeaders(`v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=, ${VECTOR.signature}`);
    expect(() =>
      verifyWebhook({ headers: joined, body: VECTOR.body, secrets: [VECTOR.secret], nowSeconds: NOW }),
    ).not.toThrow();
  });

  it('supports rotation on both sides', () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    expect(newSecret).not.toBe(oldSecret);
    const both = signed({ secrets: [oldSecret, newSecret] });
    expect(both['webhook-signature'].split(' ')).toHaveLength(2);
    for (const known of [[oldSecret], [newSecret], [newSecret, oldSecret]]) {
      expect(() => verifyWebhook({ headers: both, body, secrets: known, nowSeconds: NOW })).not.toThrow();
    }
    const onlyNew = signed({ secrets: [newSecret] });
    expect(() =>
      verifyWebhook({ headers: onlyNew, body, secrets: [oldSecret, newSecret], nowSeconds: NOW }),
    ).not.toThrow();
    expect(refusal({ headers: onlyNew, body, secrets: [oldSecret] }).code).toBe('webhook_invalid_signature');
  });

  it('uses the system clock by default', () => {
    const headers = signed({ timestampSeconds: Math.floor(Date.now() / 1000) });
    expect(() => verifyWebhook({ headers, body, secrets: [secret] })).not.toThrow();
    expect(() => verifyWebhook({ headers: signed(), body, secrets: [secret] })).toThrow(/in the past/);
  });

  it('reports a misconfigured receiver secret as a configuration error, not a bad request', () => {
    const e = (() => {
      try {
        verifyWebhook({
          headers: vectorHeaders(),
          body: VECTOR.body,
          secrets: [VECTOR.secret, 'whsec_not base64!'],
        });
      } catch (error) {
        return error;
      }
    })();
    expect(e).toBeInstanceOf(BurnrateError);
    expect(e).not.toBeInstanceOf(WebhookVerificationError);
    expect(e).toMatchObject({ code: 'invalid_webhook_secret', field: 'secrets' });
  });

  it('refuses a negative tolerance', () => {
    expect(() =>
      verifyWebhook({
        headers: vectorHeaders(),
        body: VECTOR.body,
        secrets: [VECTOR.secret],
        toleranceSeconds: -1,
      }),
    ).toThrow(expect.objectContaining({ code: 'invalid_config', field: 'toleranceSeconds' }));
  });
});

describe('signWebhook input checks', () => {
  const base = { id: 'msg_1', timestampSeconds: NOW, body: '{}', secrets: [VECTOR.secret] };

  it('generates whsec_ secrets of 32 random bytes', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
  });

  it('accepts unpadded secrets as the reference libraries do', () => {
    const padded = signWebhook({ ...base, secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS='] });
    const unpadded = signWebhook({ ...base, secrets: ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS'] });
    expect(unpadded).toEqual(padded);
  });

  it('refuses an empty list and secrets that are not base64, without echoing them', () => {
    expect(() => signWebhook({ ...base, secrets: [] })).toThrow(
      expect.objectContaining({
        code: 'invalid_webhook_secret',
        field: 'secrets',
        message: expect.stringContaining('empty'),
      }),
    );
    for (const bad of [
      '',
      'whsec_',
      'whsec_abc$def',
      'whsec_has space',
      'whsec_QQQ==',
      'whsec_Q',
      'whsec_-_-_',
    ]) {
      let error: unknown;
      try {
        signWebhook({ ...base, secrets: [VECTOR.secret, bad] });
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'invalid_webhook_secret', field: 'secrets' });
      expect((error as Error).message).toContain('secrets[1]');
      if (bad.length > 6) expect((error as Error).message).not.toContain(bad.slice(6));
    }
  });

  it('refuses ids that cannot travel in a header or would make the signed text ambiguous', () => {
    for (const id of ['', 'msg 1', 'msg\n1', 'msg\r\nX-Injected: 1', 'msg.1', 'méssage']) {
      expect(() => signWebhook({ ...base, id })).toThrow(
        expect.objectContaining({ code: 'invalid_webhook_id', field: 'id' }),
      );
    }
  });

  it('refuses timestamps that are not whole non-negative seconds', () => {
    for (const timestampSeconds of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Date.now() * 1e6]) {
      expect(() => signWebhook({ ...base, timestampSeconds })).toThrow(
        expect.objectContaining({ code: 'invalid_webhook_timestamp', field: 'timestampSeconds' }),
      );
    }
  });
});
