/** Log redaction: secret-bearing keys at any depth, and secret-shaped text inside any logged string. */
import { stdSerializers } from "pino";

export const REDACTED = "[redacted]";

/**
 * A key whose value is withheld whatever it holds, matched case-insensitively with `_` and `-`
 * dropped, on the end of the name (so `passwordHash`, `refresh_token`, `x-api-key` all match).
 * `variables` goes whole: GraphQL variables carry passwords.
 */
const SECRET_KEY_NAME = /(password|passwd|secret|secretkey|token|authorization|cookie|hash|privatekey|apikey|credentials|variables)$/;

/** Text that is a credential wherever it appears: in a message, an error, a URL. */
const SECRET_TEXT: readonly RegExp[] = [
  // Authorization header values.
  /\b(?:bearer|basic)\s+[^\s"',;]+/gi,
  // JWTs and anything else base64url-encoded JSON (`{"` encodes as `eyJ`).
  /eyJ[A-Za-z0-9_\-.]*/g,
  // Modular-crypt and PHC hashes: $argon2id$..., $2b$..., $pbkdf2-sha256$..., $bcrypt-sha256$...
  /\$(?:argon2(?:id|i|d)|2[abxy]|pbkdf2(?:-sha\d+)?|bcrypt-sha256|scrypt|[156])\$[^\s"'\\]*/g,
  // Django's algorithm$... hashes, and an unusable-password marker followed by text.
  /\b(?:pbkdf2_sha\d+|bcrypt_sha256|bcrypt|argon2|scrypt|sha1|md5|unsalted_md5|unsalted_sha1|crypt)\$[^\s"'\\]*/g,
];

const MAX_DEPTH = 8;

/** Replaces secret-shaped text, and any of the given literal secrets, inside one string. */
export function redactText(text: string, literals: readonly string[] = []): string {
  let out = text;
  for (const literal of literals) {
    if (literal.length >= 8 && out.includes(literal)) out = out.split(literal).join(REDACTED);
  }
  for (const pattern of SECRET_TEXT) out = out.replace(pattern, REDACTED);
  return out;
}

/**
 * A copy of a log object with every secret-bearing key withheld and every string cleaned, at any
 * depth. Errors are serialised first (message, stack and own fields are cleaned like the rest).
 * `skipKeys` at the top level are left to their allow-listing serializers (req, res).
 */
export function redactObject(value: unknown, literals: readonly string[], skipKeys: ReadonlySet<string> = new Set()): unknown {
  return walk(value, literals, skipKeys, 0, new WeakSet());
}

function walk(value: unknown, literals: readonly string[], skipKeys: ReadonlySet<string>, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return redactText(value, literals);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[circular]";
  if (depth >= MAX_DEPTH) return "[too deep]";
  seen.add(value);
  // pino's serializer returns an object with its own prototype: spread it into a plain one.
  if (value instanceof Error) return walk({ ...stdSerializers.err(value) }, literals, new Set(), depth + 1, seen);
  if (Array.isArray(value)) return value.map((item) => walk(item, literals, new Set(), depth + 1, seen));
  const prototype = Object.getPrototypeOf(value);
  // Class instances other than errors (dates, buffers, a request) are left to their serializers.
  if (prototype !== Object.prototype && prototype !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (depth === 0 && skipKeys.has(key)) copy[key] = inner;
    else if (SECRET_KEY_NAME.test(key.toLowerCase().replace(/[-_]/g, ""))) copy[key] = REDACTED;
    else copy[key] = walk(inner, literals, new Set(), depth + 1, seen);
  }
  return copy;
}
