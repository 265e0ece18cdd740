/** Argon2 PHC strings ($argon2id$, $argon2i$, $argon2d$): parse, bound, verify, and write in m,t,p order. */
import { randomBytes, timingSafeEqual } from "node:crypto";
import * as argon2 from "argon2";
import { HashRejected, parseCount, type PasswordFormat } from "./format";

export interface Argon2Params {
  readonly type: "argon2id" | "argon2i" | "argon2d";
  readonly version: number;
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** CONTRACT section 7: memory over 1 GiB or time over 10 is refused, never computed. */
const MAX_MEMORY_KIB = 1024 * 1024;
const MAX_TIME_COST = 10;
const MAX_PARALLELISM = 255;

const TYPES = { argon2d: argon2.argon2d, argon2i: argon2.argon2i, argon2id: argon2.argon2id } as const;
const PHC = /^\$(argon2id|argon2i|argon2d)(?:\$v=(\d+))?\$([a-z0-9=,]+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;
const B64 = /^[A-Za-z0-9+/]+$/;

/**
 * Parses a PHC argon2 string with its parameters in any order.
 * @throws HashRejected when malformed or out of bounds.
 */
export function parseArgon2(stored: string, family = "argon2"): Argon2Params {
  const match = PHC.exec(stored);
  if (!match) throw new HashRejected(family, "malformed");
  const [, type, versionText, paramText, saltText, hashText] = match;
  const params = new Map<string, string>();
  for (const pair of paramText!.split(",")) {
    const [key, value, extra] = pair.split("=");
    if (key === undefined || value === undefined || extra !== undefined || params.has(key)) {
      throw new HashRejected(family, "malformed");
    }
    params.set(key, value);
  }
  if ([...params.keys()].some((k) => !["m", "t", "p"].includes(k))) throw new HashRejected(family, "malformed");
  const memoryCost = parseCount(params.get("m"));
  const timeCost = parseCount(params.get("t"));
  const parallelism = parseCount(params.get("p"));
  const version = versionText === undefined ? 0x10 : parseCount(versionText, 3);
  if (memoryCost === undefined || timeCost === undefined || parallelism === undefined || version === undefined) {
    throw new HashRejected(family, "malformed");
  }
  if (version !== 0x10 && version !== 0x13) throw new HashRejected(family, "malformed");
  if (memoryCost > MAX_MEMORY_KIB || timeCost > MAX_TIME_COST || parallelism > MAX_PARALLELISM) {
    throw new HashRejected(family, "out-of-bounds");
  }
  if (timeCost < 1 || parallelism < 1 || memoryCost < 8 * parallelism) throw new HashRejected(family, "malformed");
  const salt = decodeB64(saltText!);
  const hash = decodeB64(hashText!);
  if (!salt || !hash || salt.length < 8 || salt.length > 64 || hash.length < 4 || hash.length > 128) {
    throw new HashRejected(family, "malformed");
  }
  return { type: type as Argon2Params["type"], version, memoryCost, timeCost, parallelism, salt, hash };
}

/** Computes the argon2 tag for `password` under `params` and compares it in constant time. */
export async function verifyArgon2(password: string, params: Argon2Params): Promise<boolean> {
  const actual = await argon2.hash(password, {
    raw: true,
    type: TYPES[params.type],
    version: params.version,
    memoryCost: params.memoryCost,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
    salt: params.salt,
    hashLength: params.hash.length,
  });
  return timingSafeEqual(actual, params.hash);
}

/** A new argon2id hash, serialised as a standard PHC string (m, t, p in that order). */
export async function hashArgon2id(
  password: string,
  policy: { memoryCost: number; timeCost: number; parallelism: number },
): Promise<string> {
  const salt = randomBytes(16);
  const hash = await argon2.hash(password, {
    raw: true,
    type: argon2.argon2id,
    version: 0x13,
    memoryCost: policy.memoryCost,
    timeCost: policy.timeCost,
    parallelism: policy.parallelism,
    salt,
    hashLength: 32,
  });
  // The argon2 package (0.45) writes m,p,t; argon2-cffi, passlib and Django expect m,t,p.
  return `$argon2id$v=19$m=${policy.memoryCost},t=${policy.timeCost},p=${policy.parallelism}$${encodeB64(salt)}$${encodeB64(hash)}`;
}

/** Whether a stored argon2 string is exactly what the current policy would write. */
export function isCurrentArgon2(stored: string, policy: { memoryCost: number; timeCost: number; parallelism: number }): boolean {
  return stored.startsWith(`$argon2id$v=19$m=${policy.memoryCost},t=${policy.timeCost},p=${policy.parallelism}$`);
}

function decodeB64(text: string): Buffer | undefined {
  // PHC uses standard base64 without padding; a length of 1 mod 4 cannot come from any input.
  if (!B64.test(text) || text.length % 4 === 1) return undefined;
  return Buffer.from(text, "base64");
}

function encodeB64(bytes: Buffer): string {
  return bytes.toString("base64").replace(/=+$/, "");
}

/** argon2id: what this server writes (of the NFKC form), and what other systems may have written. */
export const argon2Format: PasswordFormat = {
  family: "argon2",
  normalizesPassword: true,
  computesOnCaller: false,
  matches: (stored) => stored.startsWith("$argon2id$"),
  inspect: (stored) => void parseArgon2(stored),
  verify: (password, stored) => verifyArgon2(password, parseArgon2(stored)),
};

/**
 * argon2i and argon2d (and anything else `$argon2…`): never written here, so always another
 * system's hash of the raw bytes it was given; the password is not normalised for them.
 */
export const foreignArgon2Format: PasswordFormat = {
  ...argon2Format,
  normalizesPassword: false,
  matches: (stored) => stored.startsWith("$argon2"),
};
