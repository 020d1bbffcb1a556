/**
 * `host` as it goes in a URL: an IPv6 literal (`::1`) in brackets, anything else as it is. A zone
 * id (`fe80::1%eth0`) has its `%` encoded as `%25` (RFC 6874), or the URL is invalid.
 */
export function urlHost(host: string): string {
  if (!host.includes(':')) return host;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.startsWith('[')) return host;
  return `[${bare.replace(/%(?!25)/g, '%25')}]`;
}

/** `http://host:port` for a listen address or a setting; IPv6 literals are bracketed. */
export function httpUrl(host: string, port: number | string): string {
  return `http://${urlHost(host)}:${port}`;
}
