/** The soak's TCP proxy between the server and PostgreSQL: it forwards, and on cut() it takes the database away for a while. */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface CuttableProxy {
  /** The port the server's DATABASE_URL names; it stays the same for the whole run. */
  readonly port: number;
  /** `postgresUrl` with its host and port replaced by the proxy's. */
  urlFor(postgresUrl: string): string;
  /** Whether the line is cut now. */
  readonly isCut: boolean;
  /**
   * Cuts the line for `ms`: every proxied connection is reset at once and every new one is reset
   * as soon as it is accepted (the client sees ECONNRESET, as after a failover), then forwards again.
   * Resolves when the line is back.
   */
  cut(ms: number): Promise<void>;
  /** Connections reset by cuts so far (both those open at a cut and those refused during one). */
  readonly resets: number;
  /** Connections forwarded so far. */
  readonly forwarded: number;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 (an ephemeral port) and forwards every connection to `target`. Its own,
 * not test/tcp-proxy.ts: the soak cuts for a fixed time while its load runs, and counts resets.
 */
export async function startCuttableProxy(target: { host: string; port: number }): Promise<CuttableProxy> {
  /** Each client connection with its connection to PostgreSQL, while either is open. */
  const pairs = new Map<Socket, Socket>();
  let cut = false;
  let resets = 0;
  let forwarded = 0;
  const reset = (socket: Socket) => {
    // resetAndDestroy sends RST, as a vanished host's network does; destroy() alone would send FIN.
    if (!socket.destroyed) socket.resetAndDestroy();
  };
  const server: Server = createServer((client) => {
    client.on("error", () => undefined);
    if (cut) {
      resets += 1;
      reset(client);
      return;
    }
    forwarded += 1;
    const upstream = connect(target.port, target.host);
    pairs.set(client, upstream);
    const drop = () => {
      pairs.delete(client);
      reset(client);
      upstream.destroy();
    };
    // Either end failing ends the pair (the other end is reset); an orderly end travels through the pipes.
    for (const socket of [client, upstream]) {
      socket.on("error", drop);
      socket.on("close", () => pairs.delete(client));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    urlFor: (postgresUrl) => {
      const url = new URL(postgresUrl);
      url.hostname = "127.0.0.1";
      url.port = String(port);
      return url.toString();
    },
    get isCut() {
      return cut;
    },
    get resets() {
      return resets;
    },
    get forwarded() {
      return forwarded;
    },
    cut: async (ms) => {
      cut = true;
      for (const [client, upstream] of pairs) {
        resets += 1;
        reset(client);
        upstream.destroy();
      }
      pairs.clear();
      await new Promise((resolve) => setTimeout(resolve, ms));
      cut = false;
    },
    close: async () => {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
