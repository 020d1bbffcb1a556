import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BurnrateError } from '@burnrate/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAddressGuard } from '../../src/delivery/address-guard.js';
import { createHttpTransport } from '../../src/delivery/http-transport.js';
import { startServer, type TestServer } from './servers.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A throwaway self-signed certificate for 127.0.0.1, made with the openssl CLI. */
function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'burnrate-tls-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1']
        .concat(['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=127.0.0.1'])
        .concat(['-addext', 'subjectAltName=IP:127.0.0.1']),
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `body` with certificate verification off, the only way to trust a self-signed test server here. */
async function withoutVerification<T>(body: () => Promise<T>): Promise<T> {
  const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  try {
    return await body();
  } finally {
    if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
  }
}

describe.skipIf(!hasOpenssl())('https destinations', () => {
  let plain: TestServer;
  let secure: https.Server;
  let base = '';
  const transport = createHttpTransport({
    guard: createAddressGuard({ allowNetworks: ['127.0.0.1/32'] }),
    timeoutMs: 5_000,
  });

  beforeAll(async () => {
    plain = await startServer((_, res) => res.end('plain'));
    secure = https.createServer(selfSigned(), (req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/downgrade') res.writeHead(302, { location: `${plain.base}/` }).end();
        else res.end(`secure ${req.headers['content-length']}`);
      });
    });
    await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(secure.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    transport.close();
    secure.closeAllConnections();
    await new Promise((resolve) => secure.close(resolve));
    await plain.close();
  });

  it('rejects an untrusted certificate as delivery_tls, not retriable', async () => {
    const error = await transport.post(`${base}/`, { headers: {}, body: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BurnrateError);
    expect((error as BurnrateError).code).toBe('delivery_tls');
    expect((error as BurnrateError).retriable).toBe(false);
    expect((error as BurnrateError).message).toContain(`${base}/`);
    expect((error as BurnrateError).message).toContain('DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('delivers over https, and refuses a redirect down to plain http before connecting', async () => {
    await withoutVerification(async () => {
      expect(await transport.post(`${base}/`, { headers: {}, body: 'abc' })).toMatchObject({
        status: 200,
        body: 'secure 3',
      });
      const error = await transport
        .post(`${base}/downgrade`, { headers: {}, body: 'abc' })
        .catch((e: unknown) => e);
      expect((error as BurnrateError).code).toBe('invalid_destination');
      expect((error as BurnrateError).message).toContain('unencrypted');
    });
    expect(plain.connections()).toBe(0);
  });
});
