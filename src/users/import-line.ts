/** One line of a `users import` file: parsed and checked without touching the database, or refused with a reason. */
import { InvalidScope, InvalidUserField } from "../errors";
import { isUnusablePasswordMarker } from "../passwords/password-formats/unusable";
import { PasswordService } from "../passwords/passwords";
import { type ImportedUser } from "./user-import.store";
import { checkEmail, checkFullName, checkNewUsername, checkScopes, skeletonKey, usernameKey } from "./user-fields";

/** A longer line cannot be a user record; refusing it keeps one bad line from costing much memory. */
export const MAX_LINE_CHARS = 64 * 1024;

export type ParsedLine = { readonly ok: true; readonly user: ImportedUser } | { readonly ok: false; readonly reason: string };

/** Why a line is refused; it never leaves this module. */
class LineRefused extends Error {}

/**
 * Parses and validates one JSON line: `username`, optional `email` and `full_name` (the rules of
 * users/user-fields.ts, which every door shares), `password_hash` (a recognised format within the
 * bounds of CONTRACT section 7, never computed, or an unusable-password marker, which becomes
 * null: an account without a usable password), optional `scopes` (array or space-separated
 * string), `disabled` and `email_verified` (true when absent: the operator vouches). Other keys
 * are ignored, so an export may carry more columns than we keep.
 * Absent optional fields stay undefined, so that `--update` changes only what a line states.
 * Reasons name the field, never the hash.
 */
export function parseImportLine(text: string): ParsedLine {
  try {
    return { ok: true, user: parseUser(text) };
  } catch (error) {
    if (error instanceof LineRefused) return { ok: false, reason: error.message };
    throw error;
  }
}

function parseUser(text: string): ImportedUser {
  if (text.length > MAX_LINE_CHARS) throw new LineRefused(`line longer than ${MAX_LINE_CHARS} characters`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LineRefused("not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new LineRefused("not a JSON object");
  const record = value as Record<string, unknown>;

  const username = parseUsername(record.username);
  const passwordHash = parsePasswordHash(record.password_hash);
  const email = optionalField(record.email, "email", checkEmail);
  const fullName = optionalField(record.full_name, "full_name", checkFullName);
  const scopes = optionalScopes(record.scopes);
  if (record.disabled !== undefined && record.disabled !== null && typeof record.disabled !== "boolean") {
    throw new LineRefused("disabled must be true or false");
  }
  const disabled = typeof record.disabled === "boolean" ? record.disabled : undefined;
  const verified = record.email_verified;
  if (verified !== undefined && verified !== null && typeof verified !== "boolean") {
    throw new LineRefused("email_verified must be true or false");
  }
  const emailVerified = typeof verified === "boolean" ? verified : undefined;
  return {
    username,
    usernameKey: usernameKey(username),
    skeletonKey: skeletonKey(username),
    passwordHash,
    email,
    fullName,
    scopes,
    disabled,
    emailVerified,
  };
}

function parseUsername(value: unknown): string {
  if (typeof value !== "string") throw new LineRefused("username is missing or not a string");
  try {
    return checkNewUsername(value);
  } catch (error) {
    throw refusal(error);
  }
}

function parsePasswordHash(value: unknown): string | null {
  if (typeof value !== "string" || value === "") throw new LineRefused("password_hash is missing or not a string");
  // A social or SSO account of the old system is a real account: it is kept, with no password
  // hash, which login answers like a wrong password after the same dummy work, until one is set.
  if (isUnusablePasswordMarker(value)) return null;
  const inspected = PasswordService.inspect(value);
  if (inspected.ok) return value;
  const { family, reason } = inspected;
  switch (reason) {
    case "out-of-bounds":
      throw new LineRefused(`password_hash: ${family} cost out of bounds (refused, never computed)`);
    case "malformed":
      throw new LineRefused(`password_hash: malformed ${family} hash`);
    default:
      throw new LineRefused(family === "unknown" ? "password_hash: unrecognised format" : `password_hash: unsupported format (${family})`);
  }
}

/** Absent → undefined; null or "" → null (Django stores "" for "no e-mail"); else `check`ed text. */
function optionalField(value: unknown, field: string, check: (text: string) => string): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === "") return null;
  if (typeof value !== "string") throw new LineRefused(`${field} must be a string`);
  try {
    return check(value);
  } catch (error) {
    throw refusal(error);
  }
}

/** A field's error as the line's reason: `Invalid email: contains control or format characters`. */
function refusal(error: unknown): unknown {
  return error instanceof InvalidUserField ? new LineRefused(error.detail) : error;
}

/** Absent → undefined; an array of strings or a space-separated string → de-duplicated tokens. */
function optionalScopes(value: unknown): readonly string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const isList = Array.isArray(value) && value.every((s) => typeof s === "string");
  if (typeof value !== "string" && !isList) {
    throw new LineRefused("scopes must be an array of strings or a space-separated string");
  }
  try {
    return checkScopes(value as string | string[]);
  } catch (error) {
    if (error instanceof InvalidScope) throw new LineRefused(`scopes: invalid scope ${JSON.stringify(error.token)}`);
    throw error;
  }
}
