/** The shape every stored-hash format implements, and the errors that refuse a stored value. */

/** A stored value that must never be computed: malformed, or with a cost out of bounds. */
export class HashRejected extends Error {
  constructor(
    readonly family: string,
    readonly reason: "malformed" | "out-of-bounds" | "unusable",
  ) {
    super(`${family} hash refused: ${reason}`);
    this.name = "HashRejected";
  }
}

export interface PasswordFormat {
  /** Names the family in logs and reports ("bcrypt", "argon2", "django-pbkdf2", ...). Never the hash. */
  readonly family: string;
  /** Whether a stored value belongs to this format, judged by its prefix alone. */
  matches(stored: string): boolean;
  /**
   * Parses and bounds-checks the stored value without computing anything: cheap enough for the
   * event loop, and the reason a hostile cost never reaches `verify`.
   * @throws HashRejected
   */
  inspect(stored: string): void;
  /** Computes and compares; `inspect` has already passed. */
  verify(password: string, stored: string): Promise<boolean>;
  /**
   * Whether `verify` computes on the thread that calls it (bcryptjs is plain JavaScript), so that
   * it runs in a worker thread. The others hand their work to libuv's thread pool (argon2,
   * node:crypto's pbkdf2) and are called from the event loop, which they never hold up.
   */
  readonly computesOnCaller: boolean;
  /**
   * Whether the password is matched in its NFKC form (our own argon2id hashes) rather than the raw
   * bytes the source system hashed.
   */
  readonly normalizesPassword: boolean;
}

/** Parses a decimal field with no sign, no leading zeros beyond "0" and no more than `maxDigits`. */
export function parseCount(text: string | undefined, maxDigits = 10): number | undefined {
  if (text === undefined || !/^(0|[1-9]\d*)$/.test(text) || text.length > maxDigits) return undefined;
  return Number(text);
}
