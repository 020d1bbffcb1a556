import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import net from 'node:net';
import { BurnrateError, ConfigError } from '@burnrate/core';
import ipaddr from 'ipaddr.js';

/** The setting operators use to let the notifier reach non-public networks. */
export const ALLOWED_NETWORKS_SETTING = 'NOTIFIER_ALLOWED_NETWORKS';

/** Resolves a host name to every address it has, like `dns.promises.lookup(name, { all: true })`. */
export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

export type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** Drop-in for `dns.lookup`, as `net`/`http` call it (both the single-address and the `all` form). */
export interface GuardedLookup {
  (hostname: string, callback: LookupCallback): void;
  (hostname: string, options: LookupOptions | number, callback: LookupCallback): void;
}

export interface AddressGuardOptions {
  /**
   * Networks in CIDR notation that may be reached although they are not public, e.g. `10.20.0.0/16`
   * or `::1/128` (NOTIFIER_ALLOWED_NETWORKS). A bare address means that single host.
   */
  allowNetworks: readonly string[];
  /** Resolves host names; the system resolver by default. Tests inject DNS answers here. */
  resolve?: Resolver;
}

export interface AddressGuard {
  /** Throws `destination_refused` unless `address` may be contacted; `destination` names the target in the message. */
  check(address: string, destination?: string): void;
  /** Resolves, refuses the name if ANY of its addresses is disallowed, and hands the socket only checked addresses. */
  lookup: GuardedLookup;
  /** `lookup` whose refusals name `destination` (a URL without its path) instead of the bare host name. */
  lookupFor(destination: string): GuardedLookup;
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Network = [Address, number];
type Verdict = { allowed: true } | { allowed: false; what: string; never?: boolean };

const DESCRIPTIONS: Record<string, string> = {
  private: 'a private address',
  loopback: 'a loopback address',
  linkLocal: 'a link-local address (where cloud metadata services answer)',
  uniqueLocal: 'a unique-local (private) address',
  carrierGradeNat: 'a carrier-grade NAT address',
  reserved: 'a reserved address',
  unspecified: "an unspecified ('this host') address",
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
};
// Not destinations at all: the kernel sends 0.0.0.0 and :: to this host, the others to many hosts.
const NEVER = new Set(['unspecified', 'multicast', 'broadcast']);
const GLOBAL_UNICAST_V6: Network = ipaddr.parseCIDR('2000::/3');
// Only the well-known NAT64 prefix has a fixed place for the IPv4 address (its last 32 bits).
const NAT64_WELL_KNOWN: Network = ipaddr.parseCIDR('64:ff9b::/96');

function describe(range: string): string {
  return DESCRIPTIONS[range] ?? `a non-public address (${range})`;
}

function ipv4From(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** The IPv4 address an IPv6 transition form carries, where its position is fixed. */
function embeddedIpv4(address: ipaddr.IPv6, range: string): ipaddr.IPv4 | undefined {
  const p = address.parts as [number, number, number, number, number, number, number, number];
  if (range === 'ipv4Mapped') return address.toIPv4Address();
  if (range === 'rfc6145' || address.match(NAT64_WELL_KNOWN)) return ipv4From(p[6], p[7]);
  if (range === '6to4') return ipv4From(p[1], p[2]);
  // Teredo stores the client's IPv4 address with every bit flipped.
  if (range === 'teredo') return ipv4From(~p[6] & 0xffff, ~p[7] & 0xffff);
  return undefined;
}

function parseNetwork(entry: string): Network {
  const text = entry.trim();
  const [host = '', bits, extra] = text.split('/');
  const invalid = () =>
    new ConfigError(
      ALLOWED_NETWORKS_SETTING,
      `${ALLOWED_NETWORKS_SETTING} entry '${entry}' is not a network in CIDR notation; write it like 10.20.0.0/16 or fd00::/8.`,
    );
  // net.isIP accepts only the canonical forms, not ipaddr.js's lenient octal and hex IPv4 spellings.
  const family = net.isIP(host);
  if (family === 0 || host.includes('%') || extra !== undefined) throw invalid();
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) throw invalid();
  const cidr = `${host}/${bits ?? (family === 4 ? 32 : 128)}`;
  let network: Network;
  try {
    network = ipaddr.parseCIDR(cidr);
  } catch {
    throw invalid();
  }
  const base =
    family === 4 ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  // '10.20.0.1/16' is most likely a typo for a single host; allowing the whole /16 would be a surprise.
  if (base.toNormalizedString() !== network[0].toNormalizedString()) {
    throw new ConfigError(
      ALLOWED_NETWORKS_SETTING,
      `${ALLOWED_NETWORKS_SETTING} entry '${entry}' has host bits set beyond its /${network[1]} prefix; write ${base.toString()}/${network[1]} or the single host ${host}/${family === 4 ? 32 : 128}.`,
    );
  }
  return network;
}

function failure(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

export function createAddressGuard(options: AddressGuardOptions): AddressGuard {
  const networks = options.allowNetworks.filter((entry) => entry.trim() !== '').map(parseNetwork);
  const resolve: Resolver = options.resolve ?? ((hostname) => dns.promises.lookup(hostname, { all: true }));

  const listed = (address: Address) =>
    networks.some(([base, bits]) => base.kind() === address.kind() && address.match(base, bits));

  function judgeIpv4(address: ipaddr.IPv4): Verdict {
    const range = address.range();
    if (NEVER.has(range)) return { allowed: false, what: describe(range), never: true };
    if (range === 'unicast' || listed(address)) return { allowed: true };
    return { allowed: false, what: describe(range) };
  }

  function judge(text: string): Verdict {
    if (net.isIP(text) === 0) return { allowed: false, what: 'not an IP address', never: true };
    const address = ipaddr.parse(text);
    if (address.kind() === 'ipv4') return judgeIpv4(address as ipaddr.IPv4);
    const v6 = address as ipaddr.IPv6;
    const range = v6.range();
    const embedded = embeddedIpv4(v6, range);
    // A mapped or NAT64 address reaches exactly its IPv4 address, so that address is what is judged.
    if (range === 'ipv4Mapped' || (embedded && v6.match(NAT64_WELL_KNOWN))) {
      const inner = judgeIpv4(embedded!);
      if (inner.allowed || (listed(v6) && !inner.never)) return { allowed: true };
      return { ...inner, what: `an IPv6 form of ${embedded!.toString()}, ${inner.what}` };
    }
    if (NEVER.has(range)) return { allowed: false, what: describe(range), never: true };
    if (listed(v6)) return { allowed: true };
    // ipaddr.js calls everything it has no name for 'unicast'; only 2000::/3 is handed out publicly.
    if (range === 'unicast' && v6.match(GLOBAL_UNICAST_V6)) return { allowed: true };
    if (embedded) {
      return { allowed: false, what: `an IPv6 ${range} address embedding ${embedded.toString()}` };
    }
    return { allowed: false, what: describe(range === 'unicast' ? 'reserved' : range) };
  }

  function check(address: string, destination = address): void {
    const verdict = judge(address);
    if (verdict.allowed) return;
    const rule = verdict.never
      ? 'such an address is never a delivery destination'
      : `only public addresses are allowed unless ${ALLOWED_NETWORKS_SETTING} lists it`;
    throw new BurnrateError(
      'destination_refused',
      `Refused to deliver to ${destination}: it resolves to ${address}, ${verdict.what}; ${rule}.`,
    );
  }

  async function resolveChecked(hostname: string, destination: string): Promise<LookupAddress[]> {
    const family = net.isIP(hostname);
    const answers = family === 0 ? await resolve(hostname) : [{ address: hostname, family }];
    // The family comes from the address itself; a resolver's label is not trusted.
    const addresses = answers.map(({ address }) => ({ address, family: net.isIP(address) }));
    for (const { address } of addresses) check(address, destination);
    return addresses;
  }

  function lookupFor(destination?: string): GuardedLookup {
    return ((hostname: string, second: LookupOptions | number | LookupCallback, third?: LookupCallback) => {
      const callback = (typeof second === 'function' ? second : third) as LookupCallback;
      const opts: LookupOptions =
        typeof second === 'number' ? { family: second } : typeof second === 'object' ? (second ?? {}) : {};
      const wanted =
        opts.family === 4 || opts.family === 'IPv4' ? 4 : opts.family === 6 || opts.family === 'IPv6' ? 6 : 0;
      resolveChecked(hostname, destination ?? hostname).then(
        (addresses) => {
          const usable = addresses.filter((a) => wanted === 0 || a.family === wanted);
          const first = usable[0];
          if (!first) {
            callback(failure('ENOTFOUND', `getaddrinfo ENOTFOUND ${hostname}`), opts.all ? [] : '');
          } else if (opts.all) {
            callback(null, usable);
          } else {
            callback(null, first.address, first.family);
          }
        },
        (error: NodeJS.ErrnoException) => callback(error, opts.all ? [] : ''),
      );
    }) as GuardedLookup;
  }

  return { check, lookup: lookupFor(), lookupFor };
}
