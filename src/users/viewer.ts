/**
 * The request context every resolver receives, and the caller it names. Types only, below every
 * capability that has resolvers (auth/context.ts builds it from the bearer token).
 */
import { type User } from "./user.entity";

/** An authenticated caller: the user as the database has it now, and the scopes this request holds. */
export interface Viewer {
  readonly user: User;
  /** The token's scopes that the account still holds. */
  readonly scopes: readonly string[];
  readonly tokenId: string;
  readonly issuedAt: number;
  /** The session the token names (`sid`); absent for a token minted elsewhere without one. */
  readonly sessionId?: string;
}

export interface Context {
  readonly requestId: string;
  readonly clientAddress: string;
  /** The User-Agent header as sent, recorded on a session that a login here starts. */
  readonly userAgent?: string;
  /** Aborts when the client has gone before its answer (password work still waiting is dropped). */
  readonly signal?: AbortSignal;
  /** Whether the request carried a bearer credential (valid or not). */
  readonly hasBearer: boolean;
  /**
   * The caller, verified on first use and remembered for the rest of the request, so a request
   * that never touches a protected field (login) never has its token checked.
   * @throws NotAuthenticated without a bearer credential, InvalidToken for one that fails.
   */
  viewer(): Promise<Viewer>;
}
