/** Tells the use cases when a client has gone: an AbortSignal that aborts when its connection closes unanswered. */
import { type ServerResponse } from "node:http";

/**
 * A signal that aborts when the connection of `response` closes before the answer was sent: a
 * password verification still waiting for its turn is then dropped unhashed (CONTRACT section 15).
 */
export function clientGoneSignal(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  if (response.destroyed) controller.abort();
  else response.once("close", () => response.writableFinished || controller.abort());
  return controller.signal;
}
