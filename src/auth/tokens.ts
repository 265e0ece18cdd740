/** Access tokens: RFC 9068-shaped JWTs, issued and verified with alg, iss, aud and typ pinned. */
import { randomUUID } from "node:crypto";
import jwt, { type JwtHeader } from "jsonwebtoken";
import { LRUCache } from "lru-cache";
import { epochSeconds, type Clock } from "../clock";
import { InvalidToken } from "../errors";
import { type SigningKeys } from "./keys";

export interface AccessClaims {
  readonly sub: string;
  readonly scopes: readonly string[];
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
}

export interface IssuedAccessToken {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly scope: string;
  readonly claims: AccessClaims;
}

export interface TokenSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly lifetimeSeconds: number;
}

/** Tolerated clock skew between this server and whoever minted or checks a token. */
const CLOCK_SKEW_SECONDS = 5;
/** Far beyond any token we issue; longer input is refused before any parsing. */
const MAX_TOKEN_LENGTH = 8192;
const ACCEPTED_TYP = new Set(["at+jwt", "application/at+jwt"]);
/** Header members that would let the token choose its own key or extensions. */
const FORBIDDEN_HEADERS = ["crit", "jku", "jwk", "x5u", "x5c"] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** Verified tokens remembered at once: about 0.5 kB each, so a few MB at most. */
const VERIFIED_CACHE_SIZE = 10_000;

/** A token that passed every check, and the time checks it must still pass on each use. */
interface Verified {
  readonly claims: AccessClaims;
  readonly notBefore: number | undefined;
}

/** Splits a scope string on any run of white space, dropping empties and repeats. */
export function parseScopes(scope: string): string[] {
  return [...new Set(scope.split(/\s+/).filter(Boolean))];
}

export class TokenService {
  /**
   * Tokens already verified, keyed by the whole token string. A bearer sends the same token on
   * every request, and checking its signature again costs more than the rest of a `me` request.
   * Only a token that passed every check gets in, and a hit still checks the times; the keys do
   * not change while the process runs. What can change (revocation, a disabled account, the
   * account's scopes) is not in here: the caller reads it from the database on every request.
   */
  private readonly verified = new LRUCache<string, Verified>({ max: VERIFIED_CACHE_SIZE });

  constructor(
    private readonly keys: SigningKeys,
    private readonly settings: TokenSettings,
    private readonly clock: Clock,
  ) {}

  /** Signs a new access token for `userId` carrying exactly `scopes`. */
  issueAccessToken(userId: string, scopes: readonly string[]): IssuedAccessToken {
    const iat = epochSeconds(this.clock);
    const claims: AccessClaims = {
      sub: userId,
      scopes: [...scopes],
      iat,
      exp: iat + this.settings.lifetimeSeconds,
      jti: randomUUID(),
    };
    const scope = claims.scopes.join(" ");
    const header: JwtHeader = { alg: this.keys.algorithm, typ: "at+jwt" };
    if (this.keys.signing.kid) header.kid = this.keys.signing.kid;
    const accessToken = jwt.sign(
      {
        iss: this.settings.issuer,
        sub: claims.sub,
        aud: this.settings.audience,
        exp: claims.exp,
        iat: claims.iat,
        jti: claims.jti,
        scope,
      },
      this.keys.signing.key,
      { algorithm: this.keys.algorithm as jwt.Algorithm, header },
    );
    return { accessToken, expiresIn: this.settings.lifetimeSeconds, scope, claims };
  }

  /**
   * Verifies signature, algorithm, `typ`, `iss`, `aud`, `exp`, `nbf` and the presence and type of
   * every claim RFC 9068 requires.
   * @throws InvalidToken, with the reason in `cause` (never sent to the client).
   */
  verifyAccessToken(token: string): AccessClaims {
    const now = epochSeconds(this.clock);
    const known = this.verified.get(token);
    if (known !== undefined) {
      // The same time checks as below, as jsonwebtoken makes them: a remembered token expires
      // exactly when a freshly verified one would.
      const { claims, notBefore } = known;
      if (now >= claims.exp + CLOCK_SKEW_SECONDS) throw new InvalidToken("jwt expired");
      if (notBefore !== undefined && notBefore > now + CLOCK_SKEW_SECONDS) throw new InvalidToken("jwt not active");
      if (claims.iat > now + CLOCK_SKEW_SECONDS) throw new InvalidToken("iat in the future");
      return claims;
    }
    if (token.length > MAX_TOKEN_LENGTH || !JWT_SHAPE.test(token)) throw new InvalidToken("malformed");
    const header = decodeHeader(token);
    const key = this.keys.verificationKey(typeof header.kid === "string" ? header.kid : undefined);
    if (!key) throw new InvalidToken("unknown kid");
    let payload: jwt.JwtPayload | string;
    try {
      // `algorithms` is pinned: jsonwebtoken's default for a secret also admits HS384 and HS512.
      ({ payload } = jwt.verify(token, key, {
        algorithms: [this.keys.algorithm as jwt.Algorithm],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        clockTolerance: CLOCK_SKEW_SECONDS,
        clockTimestamp: now,
        complete: true,
      }));
    } catch (error) {
      throw new InvalidToken(error instanceof Error ? error.message : "unverifiable", error);
    }
    if (typeof payload !== "object" || payload === null) throw new InvalidToken("payload not an object");
    const claims = checkClaims(payload, now);
    this.verified.set(token, { claims, notBefore: typeof payload.nbf === "number" ? payload.nbf : undefined });
    return claims;
  }
}

function decodeHeader(token: string): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(token.slice(0, token.indexOf(".")), "base64url").toString("utf8"));
  } catch {
    throw new InvalidToken("header not JSON");
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw new InvalidToken("header not an object");
  const fields = header as Record<string, unknown>;
  // jsonwebtoken does not look at `typ`: RFC 8725 section 3.11 explicit typing is ours to enforce.
  if (typeof fields.typ !== "string" || !ACCEPTED_TYP.has(fields.typ.toLowerCase())) throw new InvalidToken("typ");
  for (const name of FORBIDDEN_HEADERS) {
    if (name in fields) throw new InvalidToken(`header ${name}`);
  }
  return fields;
}

function checkClaims(payload: jwt.JwtPayload, now: number): AccessClaims {
  const { sub, scope, iat, exp, jti } = payload;
  if (typeof sub !== "string" || !UUID.test(sub)) throw new InvalidToken("sub");
  if (typeof scope !== "string") throw new InvalidToken("scope");
  if (typeof jti !== "string" || jti.length === 0 || jti.length > 128) throw new InvalidToken("jti");
  if (!isTime(iat) || !isTime(exp)) throw new InvalidToken("iat/exp");
  // jsonwebtoken accepts any number; Infinity (1e309) or a fraction is no time we issue.
  if (iat > now + CLOCK_SKEW_SECONDS) throw new InvalidToken("iat in the future");
  if (exp <= iat) throw new InvalidToken("exp before iat");
  // Frozen: a remembered token hands the same object to every request that presents it.
  return Object.freeze({ sub, scopes: Object.freeze(parseScopes(scope)), iat, exp, jti });
}

function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}
