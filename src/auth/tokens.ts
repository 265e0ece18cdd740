/** Access tokens: RFC 9068-shaped JWTs, issued and verified with alg, kid, iss, aud and typ pinned. */
import { randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";
import { LRUCache } from "lru-cache";
import { epochSeconds, type Clock } from "../clock";
import { InvalidScope, InvalidToken } from "../errors";
import { signEdDSA, verifyEdDSA } from "./eddsa-jws";
import { type SigningKeys } from "./keys";
import { readScopeList } from "../users/scopes";

export interface AccessClaims {
  readonly sub: string;
  readonly scopes: readonly string[];
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  /** The user's token version at issue (auth/token-version.ts); absent in tokens minted elsewhere. */
  readonly ver?: number;
  /** The session (one login) the token belongs to; absent in tokens minted elsewhere. */
  readonly sid?: string;
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

export interface IssueOptions {
  /** The user's token version, read in the same query that loaded the user. */
  readonly tokenVersion: number;
  /** Epoch seconds the token must not outlive (the end of the session it belongs to). */
  readonly notAfter?: number;
  /** The session the token belongs to (claim `sid`): the per-request check requires it live. */
  readonly sessionId?: string;
  /** How the session's user authenticated (claim `amr`, RFC 8176): `["pwd"]` or `["pwd","otp"]`. */
  readonly amr?: readonly string[];
}

/** Tolerated clock skew between this server and whoever minted or checks a token. */
const CLOCK_SKEW_SECONDS = 5;
/** Far beyond any token we issue; longer input is refused before any parsing. */
const MAX_TOKEN_LENGTH = 8192;
const ACCEPTED_TYP = new Set(["at+jwt", "application/at+jwt"]);
/** Header members that would let the token choose its own key or extensions. */
const FORBIDDEN_HEADERS = ["crit", "jku", "jwk", "x5u", "x5c"] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Verified tokens remembered at once: about 0.5 kB each, so a few MB at most. */
const VERIFIED_CACHE_SIZE = 10_000;

/** A token that passed every check, and the `nbf` it must still pass on each use. */
interface Verified {
  readonly claims: AccessClaims;
  readonly notBefore: number | undefined;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export class TokenService {
  /**
   * Tokens already verified, keyed by the whole token string. A client sends the same token on
   * every request, and checking its signature again costs more than the rest of a `me` request's
   * authentication. Only a token that passed every check gets in, and a hit repeats the checks that
   * depend on the time. The keys do not change while the process runs. What can change (the token
   * version, a disabled account, the account's scopes) is not in here: the caller reads it from the
   * database on every request.
   */
  private readonly verified = new LRUCache<string, Verified>({ max: VERIFIED_CACHE_SIZE });

  constructor(
    private readonly keys: SigningKeys,
    private readonly settings: TokenSettings,
    private readonly clock: Clock,
  ) {}

  /**
   * Signs a new access token for `userId` carrying exactly `scopes`. Without `options.tokenVersion`
   * the token has no `ver` and is judged like one minted elsewhere (auth/token-version.ts).
   */
  async issueAccessToken(userId: string, scopes: readonly string[], options: Partial<IssueOptions> = {}): Promise<IssuedAccessToken> {
    const iat = epochSeconds(this.clock);
    const lifetime = Math.max(1, Math.min(this.settings.lifetimeSeconds, (options.notAfter ?? Infinity) - iat));
    const claims: AccessClaims = {
      sub: userId,
      scopes: [...scopes],
      iat,
      exp: iat + lifetime,
      jti: randomUUID(),
      ...(options.tokenVersion !== undefined ? { ver: options.tokenVersion } : {}),
      ...(options.sessionId !== undefined ? { sid: options.sessionId } : {}),
    };
    const scope = claims.scopes.join(" ");
    const payload = {
      iss: this.settings.issuer,
      sub: claims.sub,
      aud: this.settings.audience,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      scope,
      ...(claims.ver !== undefined ? { ver: claims.ver } : {}),
      ...(claims.sid !== undefined ? { sid: claims.sid } : {}),
      ...(options.amr !== undefined ? { amr: [...options.amr] } : {}),
    };
    const { algorithm, signing } = this.keys;
    const header = { typ: "at+jwt", ...(signing.kid ? { kid: signing.kid } : {}) };
    const accessToken =
      algorithm === "EdDSA"
        ? await signEdDSA({ alg: algorithm, ...header }, payload, signing.key)
        : jwt.sign(payload, signing.key, { algorithm, header: { alg: algorithm, ...header } });
    return { accessToken, expiresIn: lifetime, scope, claims };
  }

  /**
   * Verifies the header (`typ`, `alg` equal to the configured one, no `crit`/`jku`/`jwk`/`x5u`/`x5c`,
   * a known `kid`), the signature, `iss`, `aud`, `exp`, `nbf`, and the presence and type of every
   * claim RFC 9068 requires. The same checks run whatever the algorithm.
   * @throws InvalidToken, with the reason in `cause` (never sent to the client).
   */
  async verifyAccessToken(token: string): Promise<AccessClaims> {
    // The length first: an oversized header is refused before it is even looked up.
    if (token.length > MAX_TOKEN_LENGTH) throw new InvalidToken("malformed");
    const now = epochSeconds(this.clock);
    const known = this.verified.get(token);
    if (known !== undefined) return checkTimes(known, now);
    if (!JWT_SHAPE.test(token)) throw new InvalidToken("malformed");
    const header = decodeHeader(token);
    // The algorithm is pinned by configuration, never taken from the token (RFC 8725 section 3.1):
    // with RS256, ES256 or EdDSA configured no HS256 token passes, and the reverse.
    if (header.alg !== this.keys.algorithm) throw new InvalidToken("alg");
    if (header.kid !== undefined && typeof header.kid !== "string") throw new InvalidToken("kid");
    // A map lookup made at start: whatever the kid holds, it opens no file and reaches no query.
    const key = this.keys.verificationKey(header.kid);
    if (!key) throw new InvalidToken("unknown kid");
    const payload = this.keys.algorithm === "EdDSA" ? await verifyEdDSA(token, key) : this.verifyWithJsonwebtoken(token, key, now);
    checkRegisteredClaims(payload, this.settings, now);
    const claims = checkClaims(payload, now);
    this.verified.set(token, { claims, notBefore: typeof payload.nbf === "number" ? payload.nbf : undefined });
    return claims;
  }

  private verifyWithJsonwebtoken(token: string, key: jwt.Secret, now: number): Record<string, unknown> {
    let payload: jwt.JwtPayload | string;
    try {
      // `algorithms` is pinned: jsonwebtoken's default for a secret also admits HS384 and HS512.
      // jsonwebtoken 9 also refuses an asymmetric key for HS256, so a token HMAC-signed with our
      // public key (algorithm confusion) fails twice over.
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
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) throw new InvalidToken("payload not an object");
    return payload;
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

/**
 * `iss`, `aud`, `exp` and `nbf`, checked here for every algorithm, so EdDSA (verified without
 * jsonwebtoken) gets exactly the checks the others get; for those it repeats jsonwebtoken's.
 */
function checkRegisteredClaims(payload: Record<string, unknown>, settings: TokenSettings, now: number): void {
  if (payload.iss !== settings.issuer) throw new InvalidToken("iss");
  const aud = payload.aud;
  if (!(aud === settings.audience || (Array.isArray(aud) && aud.includes(settings.audience)))) throw new InvalidToken("aud");
  if (typeof payload.exp !== "number" || now >= payload.exp + CLOCK_SKEW_SECONDS) throw new InvalidToken("expired");
  if (payload.nbf !== undefined && (typeof payload.nbf !== "number" || payload.nbf > now + CLOCK_SKEW_SECONDS))
    throw new InvalidToken("nbf");
}

function checkClaims(payload: Record<string, unknown>, now: number): AccessClaims {
  const { sub, scope, iat, exp, jti, ver, sid } = payload;
  if (typeof sub !== "string" || !UUID.test(sub)) throw new InvalidToken("sub");
  if (typeof scope !== "string") throw new InvalidToken("scope");
  if (typeof jti !== "string" || jti.length === 0 || jti.length > 128) throw new InvalidToken("jti");
  if (!isTime(iat) || !isTime(exp)) throw new InvalidToken("iat/exp");
  // jsonwebtoken accepts any number; Infinity (1e309) or a fraction is no time we issue.
  if (iat > now + CLOCK_SKEW_SECONDS) throw new InvalidToken("iat in the future");
  if (exp <= iat) throw new InvalidToken("exp before iat");
  if (ver !== undefined && !(typeof ver === "number" && Number.isSafeInteger(ver) && ver >= 0)) throw new InvalidToken("ver");
  if (sid !== undefined && !(typeof sid === "string" && UUID.test(sid))) throw new InvalidToken("sid");
  // Frozen: a remembered token hands the same object to every request that presents it.
  return Object.freeze({
    sub,
    scopes: Object.freeze(readScopeClaim(scope)),
    iat,
    exp,
    jti,
    ...(ver !== undefined ? { ver } : {}),
    ...(sid !== undefined ? { sid } : {}),
  });
}

/** The checks of a remembered token that depend on the time, as checkRegisteredClaims and checkClaims make them. */
function checkTimes({ claims, notBefore }: Verified, now: number): AccessClaims {
  // The reasons jsonwebtoken gives, so a log reads the same whichever path refused the token.
  if (now >= claims.exp + CLOCK_SKEW_SECONDS) throw new InvalidToken("jwt expired");
  if (notBefore !== undefined && notBefore > now + CLOCK_SKEW_SECONDS) throw new InvalidToken("jwt not active");
  if (claims.iat > now + CLOCK_SKEW_SECONDS) throw new InvalidToken("iat in the future");
  return claims;
}

/** The `scope` claim, read by the one scope grammar; a claim with a token outside it is not ours. */
function readScopeClaim(scope: string): string[] {
  try {
    return readScopeList(scope);
  } catch (error) {
    if (error instanceof InvalidScope) throw new InvalidToken("scope");
    throw error;
  }
}

function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}
