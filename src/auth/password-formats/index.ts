/** The registry of stored-hash formats, in the order their prefixes are tried. */
import { argon2Format, foreignArgon2Format } from "./argon2";
import { bcryptFormat } from "./bcrypt";
import { type PasswordFormat } from "./format";

export const PASSWORD_FORMATS: readonly PasswordFormat[] = [argon2Format, foreignArgon2Format, bcryptFormat];

/** The format a stored value belongs to, or undefined for an unknown prefix. */
export function findFormat(stored: string): PasswordFormat | undefined {
  return PASSWORD_FORMATS.find((format) => format.matches(stored));
}
