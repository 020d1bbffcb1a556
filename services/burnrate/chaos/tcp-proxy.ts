import net from 'node:net';

/**
 * What the proxy does with connections: `pass` forwards both ways; `blackhole` forwards requests but
 * drops every answer (the server acts, the client never hears back: a lost acknowledgement);
 * `refuse` closes the listener and every open connection (clients see connection refused).
 */
export type ProxyMode = 'pass' | 'blackhole' | 'refuse';

export interface TcpProxy {
  port: number;
  mode(): ProxyMode;
  setMode(mode: ProxyMode): Promise<void>;
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1:`port` in front of 127.0.0.1:`targetPort`, to cut a service away at will. */
export async function startTcpProxy(port: number, targetPort: number): Promise<TcpProxy> {
  let mode: ProxyMode = 'pass';
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const srv = net.createServer((client) => {
        const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
        track(client);
        track(upstream);
        client.on('data', (chunk) => upstream.write(chunk));
        upstream.on('data', (chunk) => {
          if (mode === 'pass') client.write(chunk);
        });
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
      });
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => {
        server = srv;
        resolve();
      });
    });
  const unlisten = async () => {
    const srv = server;
    server = undefined;
    for (const s of sockets) s.destroy();
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
  };
  await listen();
  return {
    port,
    mode: () => mode,
    async setMode(next) {
      if (next === mode) return;
      const previous = mode;
      mode = next;
      if (next === 'refuse') await unlisten();
      else if (previous === 'refuse') await listen();
      // Leaving the blackhole: connections whose answers were dropped are cut, as a timeout would.
      if (previous === 'blackhole') for (const s of sockets) s.destroy();
    },
    close: unlisten,
  };
}
