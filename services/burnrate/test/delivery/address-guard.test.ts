import type { LookupAddress } from 'node:dns';
import { BurnrateError, ConfigError } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { createAddressGuard, type GuardedLookup, type Resolver } from '../../src/delivery/address-guard.js';

const DNS: Record<string, string[]> = {
  'public.example': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'internal.example': ['10.1.2.3'],
  'dual.example': ['93.184.216.34', '10.0.0.1'],
};
const resolve: Resolver = async (hostname) => {
  const answers = DNS[hostname];
  if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

function refusal(run: () => unknown): BurnrateError {
  try {
    run();
  } catch (error) {
    if (error instanceof BurnrateError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

function lookup(fn: GuardedLookup, hostname: string, options?: object | number) {
  return new Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family?: number }>((done) => {
    const callback = (error: NodeJS.ErrnoException | null, address: unknown, family?: number) =>
      done({ error, address, family });
    if (options === undefined) fn(hostname, callback);
    else fn(hostname, options as never, callback);
  });
}

describe('address classification', () => {
  const guard = createAddressGuard({ allowNetworks: [] });

  it.each([
    ['10.1.2.3', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['127.0.0.1', 'a loopback address'],
    ['127.255.0.9', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['0.0.0.0', 'never a delivery destination'],
    ['0.1.2.3', 'never a delivery destination'],
    ['::', 'never a delivery destination'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['::a00:1', 'reserved'], // IPv4-compatible, outside 2000::/3
    ['::ffff:127.0.0.1', 'IPv6 form of 127.0.0.1, a loopback address'],
    ['::ffff:a9fe:a9fe', 'IPv6 form of 169.254.169.254'],
    ['64:ff9b::a00:1', 'IPv6 form of 10.0.0.1, a private address'], // NAT64
    ['2002:a00:1::1', '6to4 address embedding 10.0.0.1'],
    ['2001:0:4136:e378:8000:63bf:f5ff:fffe', 'teredo address embedding 10.0.0.1'],
    ['::ffff:0:a00:1', 'embedding 10.0.0.1'],
    ['010.0.0.1', 'not an IP address'], // octal spelling some resolvers read as 8.0.0.1
    ['internal.example', 'not an IP address'],
  ])('refuses %s (%s)', (address, why) => {
    const error = refusal(() => guard.check(address, 'http://hook:80/'));
    expect(error.code).toBe('destination_refused');
    expect(error.retriable).toBe(false);
    expect(error.message).toContain(`Refused to deliver to http://hook:80/: it resolves to ${address}`);
    expect(error.message).toContain(why);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:93.184.216.34', '64:ff9b::5db8:d822'])(
    'allows the public unicast address %s',
    (address) => expect(() => guard.check(address)).not.toThrow(),
  );

  it('says what to do: list the network in NOTIFIER_ALLOWED_NETWORKS', () => {
    expect(refusal(() => guard.check('10.1.2.3', 'http://x:80/')).message).toBe(
      'Refused to deliver to http://x:80/: it resolves to 10.1.2.3, a private address; only public addresses are allowed unless NOTIFIER_ALLOWED_NETWORKS lists it.',
    );
  });
});

describe('allow-list (NOTIFIER_ALLOWED_NETWORKS)', () => {
  it('admits exactly the listed networks, and IPv4-mapped forms of listed IPv4 addresses', () => {
    const guard = createAddressGuard({
      allowNetworks: ['127.0.0.1/32', '10.20.0.0/16', '::1/128', ' 192.168.1.10 ', ''],
    });
    for (const ok of ['127.0.0.1', '::ffff:127.0.0.1', '10.20.0.1', '10.20.255.254', '::1', '192.168.1.10']) {
      expect(() => guard.check(ok), ok).not.toThrow();
    }
    for (const refused of ['127.0.0.2', '10.21.0.1', '10.0.0.1', '::2', '192.168.1.11', '169.254.169.254']) {
      expect(refusal(() => guard.check(refused)).code, refused).toBe('destination_refused');
    }
  });

  it('never admits unspecified, multicast or broadcast addresses, even under 0.0.0.0/0', () => {
    const guard = createAddressGuard({ allowNetworks: ['0.0.0.0/0', '::/0'] });
    expect(() => guard.check('10.0.0.1')).not.toThrow();
    for (const address of ['0.0.0.0', '::', '224.0.0.1', '255.255.255.255', 'ff02::1']) {
      expect(refusal(() => guard.check(address)).message, address).toContain('never a delivery destination');
    }
  });

  it.each([
    '10.0.0.300/8',
    'not-a-network',
    '10.0.0.0/33',
    '::1/129',
    '10.1/16',
    '0x0a.0.0.0/8',
    '10.0.0.0/8/8',
    '10.0.0.0/abc',
  ])('rejects the entry %s as a configuration error naming the setting', (entry) => {
    const error = refusal(() => createAddressGuard({ allowNetworks: ['127.0.0.1/32', entry] }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe('invalid_config');
    expect(error.field).toBe('NOTIFIER_ALLOWED_NETWORKS');
    expect(error.message).toBe(
      `NOTIFIER_ALLOWED_NETWORKS entry '${entry}' is not a network in CIDR notation; write it like 10.20.0.0/16 or fd00::/8.`,
    );
  });

  it('rejects an entry with host bits set rather than widening it silently', () => {
    const error = refusal(() => createAddressGuard({ allowNetworks: ['10.20.0.1/16'] }));
    expect(error.field).toBe('NOTIFIER_ALLOWED_NETWORKS');
    expect(error.message).toContain("'10.20.0.1/16' has host bits set");
    expect(error.message).toContain('10.20.0.0/16');
  });
});

describe('guarded lookup', () => {
  const guard = createAddressGuard({ allowNetworks: [], resolve });

  it('answers in the single-address form', async () => {
    expect(await lookup(guard.lookup, 'public.example', {})).toEqual({
      error: null,
      address: '93.184.216.34',
      family: 4,
    });
    expect(await lookup(guard.lookup, 'public.example')).toMatchObject({ address: '93.184.216.34' });
    expect(await lookup(guard.lookup, 'public.example', 6)).toMatchObject({
      address: '2606:2800:220:1:248:1893:25c8:1946',
      family: 6,
    });
  });

  it('answers in the all form that Node 20 uses with autoSelectFamily', async () => {
    const { error, address } = await lookup(guard.lookup, 'public.example', { all: true });
    expect(error).toBeNull();
    expect(address as LookupAddress[]).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
    ]);
    expect((await lookup(guard.lookup, 'public.example', { all: true, family: 4 })).address).toEqual([
      { address: '93.184.216.34', family: 4 },
    ]);
  });

  it('refuses a name that resolves to a private address, naming the address', async () => {
    const { error } = await lookup(guard.lookupFor('http://internal.example:80/'), 'internal.example', {
      all: true,
    });
    expect(error).toBeInstanceOf(BurnrateError);
    expect((error as unknown as BurnrateError).code).toBe('destination_refused');
    expect(error?.message).toContain(
      'Refused to deliver to http://internal.example:80/: it resolves to 10.1.2.3',
    );
  });

  it('refuses a name when ANY of its addresses is disallowed, in both forms', async () => {
    for (const options of [{}, { all: true }, { family: 4 }]) {
      const { error, address } = await lookup(guard.lookup, 'dual.example', options);
      expect((error as unknown as BurnrateError).code).toBe('destination_refused');
      expect(error?.message).toContain('10.0.0.1');
      expect(address).not.toContain('93.184.216.34');
    }
  });

  it('passes resolver failures through with their code', async () => {
    const { error } = await lookup(guard.lookup, 'missing.example', { all: true });
    expect(error?.code).toBe('ENOTFOUND');
  });

  it('judges an IP literal without asking the resolver', async () => {
    const calls: string[] = [];
    const counting = createAddressGuard({
      allowNetworks: [],
      resolve: async (hostname) => {
        calls.push(hostname);
        return [];
      },
    });
    expect((await lookup(counting.lookup, '8.8.8.8', {})).address).toBe('8.8.8.8');
    expect((await lookup(counting.lookup, '169.254.169.254', {})).error?.message).toContain(
      '169.254.169.254',
    );
    expect(calls).toEqual([]);
  });

  it('uses the system resolver by default (localhost is loopback, so it is refused)', async () => {
    const { error } = await lookup(createAddressGuard({ allowNetworks: [] }).lookup, 'localhost', {
      all: true,
    });
    expect((error as unknown as BurnrateError).code).toBe('destination_refused');
  });
});
