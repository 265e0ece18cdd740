/** A real HTTP receiver on an ephemeral port that verifies every Standard Webhooks delivery with the library. */
import { createServer, type IncomingHttpHeaders } from "node:http";
import { type AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** One delivery as it arrived. */
export interface ReceivedWebhook {
  readonly id: string;
  readonly timestamp: string;
  readonly signature: string;
  readonly body: string;
  /** The body as the library returned it after verifying the signature; undefined if it refused. */
  readonly verified: unknown;
  /** The status answered. */
  readonly status: number;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly received: ReceivedWebhook[];
  /** Resolves once `predicate` holds over what arrived (polling; fails after `timeoutMs`). */
  waitFor(predicate: (received: readonly ReceivedWebhook[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a receiver. `answer` picks the status for each delivery (given how many times that
 * `webhook-id` arrived before); a delivery whose signature fails verification gets 400.
 */
export async function startWebhookReceiver(
  secret: string,
  answer: (id: string, previousArrivals: number) => number = () => 200,
): Promise<WebhookReceiver> {
  const verifier = new Webhook(secret);
  const received: ReceivedWebhook[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const id = header(request.headers, "webhook-id");
      let verified: unknown;
      try {
        verified = verifier.verify(body, {
          "webhook-id": id,
          "webhook-timestamp": header(request.headers, "webhook-timestamp"),
          "webhook-signature": header(request.headers, "webhook-signature"),
        });
      } catch {
        verified = undefined;
      }
      const previous = received.filter((r) => r.id === id).length;
      const status = verified === undefined ? 400 : answer(id, previous);
      received.push({
        id,
        timestamp: header(request.headers, "webhook-timestamp"),
        signature: header(request.headers, "webhook-signature"),
        body,
        verified,
        status,
      });
      response.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "no");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    waitFor: async (predicate, timeoutMs = 10_000) => {
      const end = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > end)
          throw new Error(`webhook receiver: condition not met; received ${JSON.stringify(received.map((r) => [r.id, r.status]))}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : (value ?? "");
}
