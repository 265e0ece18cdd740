/** Builds the per-request context: who is asking, resolved lazily from the bearer token. */
import { InvalidToken, NotAuthenticated } from "../errors";
import { type Context, type Viewer } from "../users/viewer";
import { checkAccessToken, type AccessTokenDeps } from "./live-access-token";

/** What the context needs to judge a bearer token: the same as every other door (live-access-token.ts). */
export type ContextDeps = AccessTokenDeps;

export interface RequestCredentials {
  readonly requestId: string;
  readonly clientAddress: string;
  /** The Authorization header value(s) as received. */
  readonly authorization: string | readonly string[] | undefined;
  readonly userAgent?: string;
  /**
   * Makes the signal that aborts when the client closes its connection unanswered. Called once,
   * when a use case first reads `Context.signal` (a login, a password check), so a `me` makes no
   * AbortController and adds no close listener. A plain function, not a getter: an object literal
   * with a getter, made per request, kept everything its getter reached alive through young
   * collections (see LATE_SIGNAL below).
   */
  readonly clientGone?: () => AbortSignal;
}

type Bearer = { kind: "none" } | { kind: "malformed" } | { kind: "token"; token: string };

/** Reads an Authorization header: the scheme is case-insensitive (RFC 9110 section 11.1). */
export function parseAuthorization(header: string | readonly string[] | undefined): Bearer {
  if (header === undefined) return { kind: "none" };
  if (typeof header !== "string") return header.length === 0 ? { kind: "none" } : { kind: "malformed" };
  const space = header.indexOf(" ");
  const scheme = space < 0 ? header : header.slice(0, space);
  if (scheme.toLowerCase() !== "bearer") return { kind: "none" };
  const token = space < 0 ? "" : header.slice(space + 1).trim();
  if (token === "" || /\s/.test(token)) return { kind: "malformed" };
  return { kind: "token", token };
}

/** Where a context keeps its client-gone signal, made on first read; a symbol, so no resolver reads it as a field. */
const LATE_SIGNAL = Symbol("client-gone signal");

interface LateSignal {
  readonly make: (() => AbortSignal) | undefined;
  made: AbortSignal | undefined;
}

/**
 * One class for every request's context, so that all of them share one shape and one prototype.
 *
 * The signal is read through a getter on the prototype, made on the first read: Apollo clones the
 * context for every operation (an Object.assign of its own enumerable properties, which would call
 * an own getter, onto an object of the same prototype), and the clone shares the LATE_SIGNAL
 * holder, an own enumerable symbol property that Object.assign copies too.
 *
 * Measured under a pinned `me` load (bench/README.md): the context this replaced took an object
 * literal with its own `get signal()` from the HTTP layer, and with it about 9 % of all young
 * bytes (whole requests: their sockets' buffers, headers, Apollo's request state) survived two
 * young collections into the old generation, against 2.6 % without it; young pauses went from
 * about 5 ms to 2 ms.
 */
class RequestContext implements Context {
  readonly [LATE_SIGNAL]: LateSignal;
  readonly requestId: string;
  readonly clientAddress: string;
  readonly userAgent: string | undefined;
  readonly hasBearer: boolean;
  readonly viewer: () => Promise<Viewer>;

  constructor(request: RequestCredentials, bearer: Bearer, deps: ContextDeps) {
    this[LATE_SIGNAL] = { make: request.clientGone, made: undefined };
    this.requestId = request.requestId;
    this.clientAddress = request.clientAddress;
    this.userAgent = request.userAgent;
    this.hasBearer = bearer.kind !== "none";
    let pending: Promise<Viewer> | undefined;
    this.viewer = () => (pending ??= resolveViewer(bearer, deps));
  }

  get signal(): AbortSignal | undefined {
    const late = this[LATE_SIGNAL];
    return (late.made ??= late.make?.());
  }
}

/** Builds the context the HTTP path and resolver tests share. */
export function buildContext(request: RequestCredentials, deps: ContextDeps): Context {
  return new RequestContext(request, parseAuthorization(request.authorization), deps);
}

async function resolveViewer(bearer: Bearer, deps: ContextDeps): Promise<Viewer> {
  if (bearer.kind === "none") throw new NotAuthenticated();
  if (bearer.kind === "malformed") throw new InvalidToken("malformed Authorization header");
  return (await checkAccessToken(deps, bearer.token)).viewer;
}

/** A context for a caller already known, as resolver unit tests and tools construct one. */
export function contextForViewer(viewer: Viewer | undefined, extra: Partial<Pick<Context, "requestId" | "clientAddress">> = {}): Context {
  return {
    requestId: extra.requestId ?? "test",
    clientAddress: extra.clientAddress ?? "127.0.0.1",
    hasBearer: viewer !== undefined,
    viewer: () => (viewer ? Promise.resolve(viewer) : Promise.reject(new NotAuthenticated())),
  };
}
