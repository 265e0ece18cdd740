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
  /** Aborts when the client closes its connection unanswered; may be a getter that makes it on first read. */
  readonly signal?: AbortSignal;
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

/** Where a context's prototype finds its request's credentials; a symbol, so no resolver reads it as a field. */
const CREDENTIALS = Symbol("request credentials");

/**
 * One class for every request's context, so that all of them share one shape and one prototype:
 * V8 keeps the property reads of Apollo, type-graphql and the resolvers on them fast.
 *
 * The signal is read through a getter on the prototype, so that one made on demand (the HTTP
 * path's) is made only when a use case reads it: Apollo clones the context for every operation (an
 * Object.assign of its own enumerable properties, which would call an own getter, onto an object
 * of the same prototype). The credentials travel in an own enumerable symbol property, which that
 * Object.assign copies too.
 */
class RequestContext implements Context {
  readonly [CREDENTIALS]: RequestCredentials;
  readonly requestId: string;
  readonly clientAddress: string;
  readonly userAgent: string | undefined;
  readonly hasBearer: boolean;
  readonly viewer: () => Promise<Viewer>;

  constructor(request: RequestCredentials, bearer: Bearer, deps: ContextDeps) {
    this[CREDENTIALS] = request;
    this.requestId = request.requestId;
    this.clientAddress = request.clientAddress;
    this.userAgent = request.userAgent;
    this.hasBearer = bearer.kind !== "none";
    let pending: Promise<Viewer> | undefined;
    this.viewer = () => (pending ??= resolveViewer(bearer, deps));
  }

  get signal(): AbortSignal | undefined {
    return this[CREDENTIALS].signal;
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
