/** A TCP proxy the test controls: the app reaches PostgreSQL through it, and the test cuts the line. */
import { createServer, connect, type Server, type Socket } from "node:net";

export interface TcpProxy {
  /** The port the proxy owns; it stays the same across close() and open(). */
  readonly port: number;
  /** `postgresUrl` with its host and port replaced by the proxy's. */
  urlFor(postgresUrl: string): string;
  /** Starts accepting again on the same port. */
  open(): Promise<void>;
  /** Stops accepting (connects are refused) and cuts every connection open through it. */
  close(): Promise<void>;
  /**
   * Stops delivering: from now on every byte either side sends is swallowed, as on a network that
   * stopped carrying packets, so a query sent meanwhile stays in flight until close() cuts its
   * connection. open() after close() delivers again.
   */
  stall(): void;
  /** How many connections have sent bytes since stall(): each has a query (or a connect) in flight. */
  heldConnections(): number;
}

/**
 * Makes a proxy to `target` that starts closed or open. Cutting it is how tests take the
 * database away without stopping the PostgreSQL server that everyone shares.
 */
export async function createTcpProxy(target: { host: string; port: number }, options: { open: boolean }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  /** Each client's connection to the target, while both are open. */
  const upstreamOf = new Map<Socket, Socket>();
  let stalled = false;
  const held = new Set<Socket>();
  // Unpiped and read into nothing: no byte crosses, and neither side's buffers fill up.
  const swallow = (client: Socket, upstream: Socket) => {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.on("data", () => held.add(client));
    // unpipe() leaves a stream paused, and a paused stream reads nothing, not even into nowhere.
    client.resume();
    upstream.resume();
  };

  const listen = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const made = createServer((client) => {
        const upstream = connect(target.port, target.host);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on("close", () => sockets.delete(socket));
          // A cut line shows up as errors on both ends; the app sees them, the proxy ignores them.
          socket.on("error", () => {
            client.destroy();
            upstream.destroy();
          });
        }
        if (stalled) swallow(client, upstream);
        else client.pipe(upstream).pipe(client);
        upstreamOf.set(client, upstream);
        client.on("close", () => upstreamOf.delete(client));
      });
      made.once("error", reject);
      made.listen(port, "127.0.0.1", () => resolve(made));
    });

  // Take a free port once and keep it: the app's DATABASE_URL names it for the whole test.
  const probe = await listen(0);
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  const proxy: TcpProxy = {
    port,
    urlFor: (postgresUrl) => {
      const url = new URL(postgresUrl);
      url.hostname = "127.0.0.1";
      url.port = String(port);
      return url.toString();
    },
    open: async () => {
      stalled = false;
      server ??= await listen(port);
    },
    close: async () => {
      const closing = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
    stall: () => {
      stalled = true;
      held.clear();
      for (const [client, upstream] of upstreamOf) swallow(client, upstream);
    },
    heldConnections: () => held.size,
  };
  if (options.open) await proxy.open();
  return proxy;
}
