/** The soak's HTTP client: GraphQL and form requests over keep-alive connections, each with a timeout, never rejecting. */
import { Agent, request } from "node:http";

export interface Answer {
  /** HTTP status, or undefined when no answer came (a reset connection, a timeout). */
  readonly status?: number;
  readonly body?: any;
  readonly retryAfter?: string;
  /** Why no answer: the socket error's code, `timeout`, or `not JSON`. */
  readonly failure?: string;
  /** performance.now() when it was sent and when it ended. */
  readonly sentAt: number;
  readonly endedAt: number;
}

export interface Target {
  readonly port: number;
  /** Keep-alive connections to reuse; undefined: a connection of its own, closed after the answer. */
  readonly agent?: Agent;
  readonly timeoutMs: number;
}

/** A keep-alive agent holding one connection: a virtual client's own line to the server. */
export function clientAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 1 });
}

/** POSTs `payload` and resolves with what came back; a socket error or a timeout is an Answer too. */
export function post(
  target: Target,
  path: string,
  contentType: string,
  payload: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const sentAt = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: Omit<Answer, "sentAt" | "endedAt">) => {
      if (settled) return;
      settled = true;
      resolve({ ...answer, sentAt, endedAt: performance.now() });
    };
    const req = request(
      {
        host: "127.0.0.1",
        port: target.port,
        path,
        method: "POST",
        agent: target.agent ?? false,
        headers: {
          "content-type": contentType,
          "content-length": Buffer.byteLength(payload),
          ...(target.agent ? {} : { connection: "close" }),
          ...headers,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
        res.on("error", (error: NodeJS.ErrnoException) => done({ status: res.statusCode, failure: error.code ?? error.message }));
        res.on("end", () => {
          const retryAfter = res.headers["retry-after"];
          try {
            done({ status: res.statusCode, body: text ? JSON.parse(text) : undefined, retryAfter });
          } catch {
            done({ status: res.statusCode, failure: "not JSON", retryAfter });
          }
        });
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) => done({ failure: error.code ?? error.message }));
    req.setTimeout(target.timeoutMs, () => {
      done({ failure: "timeout" });
      req.destroy();
    });
    req.end(payload);
  });
}

/** A GraphQL operation at /graphql. */
export function graphql(
  target: Target,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return post(target, "/graphql", "application/json", JSON.stringify({ query, variables }), headers);
}

/** A form at POST /token. */
export function tokenForm(target: Target, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
  return post(target, "/token", "application/x-www-form-urlencoded", new URLSearchParams(form).toString(), headers);
}

/** A client address for X-Forwarded-For (the server trusts one proxy hop): spreads the per-address limits as a crowd would. */
export function someAddress(): string {
  const byte = () => Math.floor(Math.random() * 254) + 1;
  return `10.${byte()}.${byte()}.${byte()}`;
}
