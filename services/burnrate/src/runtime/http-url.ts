/** `host` as it goes in a URL: an IPv6 literal (`::1`) in brackets, anything else as it is. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** `http://host:port` for a listen address or a setting; IPv6 literals are bracketed. */
export function httpUrl(host: string, port: number | string): string {
  return `http://${urlHost(host)}:${port}`;
}
