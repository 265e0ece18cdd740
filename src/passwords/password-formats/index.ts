/** The registry of stored-hash formats, in the order their prefixes are tried. */
import { argon2Format, foreignArgon2Format } from "./argon2";
import { bcryptFormat } from "./bcrypt";
import { djangoArgon2Format, djangoBcryptFormat, djangoBcryptSha256Format, djangoPbkdf2Format, djangoUnusableFormat } from "./django";
import { type PasswordFormat } from "./format";
import { passlibBcryptSha256Format, passlibPbkdf2Format } from "./passlib";

export { unsupportedFamily } from "./unsupported";

// First match wins. Apart from "$argon2id$" before the wider "$argon2", the prefixes are disjoint
// ("$argon2" vs "argon2$", "$bcrypt-sha256$" vs "bcrypt_sha256$" vs "bcrypt$").
export const PASSWORD_FORMATS: readonly PasswordFormat[] = [
  argon2Format,
  foreignArgon2Format,
  bcryptFormat,
  passlibPbkdf2Format,
  passlibBcryptSha256Format,
  djangoPbkdf2Format,
  djangoArgon2Format,
  djangoBcryptSha256Format,
  djangoBcryptFormat,
  djangoUnusableFormat,
];

/** The format a stored value belongs to, or undefined for an unknown prefix. */
export function findFormat(stored: string): PasswordFormat | undefined {
  return PASSWORD_FORMATS.find((format) => format.matches(stored));
}
