/** Standard Webhooks (standardwebhooks.com): the body of an event's delivery, and its signature. */
import { createHmac } from "node:crypto";
import { type StoredAuthEvent } from "../auth-event";

/**
 * The body POSTed for an event (CONTRACT section 12). Fixed when the event is recorded, so every
 * retry sends the same bytes.
 */
export function webhookBody(event: StoredAuthEvent): string {
  return JSON.stringify({
    type: event.type,
    timestamp: new Date(event.at).toISOString(),
    data: {
      id: event.id,
      userId: event.userId,
      sessionId: event.sessionId,
      clientAddress: event.clientAddress,
      userAgent: event.userAgent,
    },
  });
}

/**
 * The `webhook-signature` header: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` under the
 * secret's bytes (the base64 after `whsec_`), as the Standard Webhooks libraries verify it.
 */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const mac = createHmac("sha256", key).update(`${id}.${timestampSeconds}.${body}`, "utf8").digest("base64");
  return `v1,${mac}`;
}
