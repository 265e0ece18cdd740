/** TOTP (RFC 6238) with otpauth: secrets, the otpauth:// URI, its SVG QR code, and which step a code belongs to. */
import { Secret, TOTP } from "otpauth";
import QRCode from "qrcode";

/** RFC 6238's defaults, which every authenticator app reads: SHA-1, 6 digits, 30-second steps. */
const ALGORITHM = "SHA1";
const DIGITS = 6;
const PERIOD_SECONDS = 30;
/** 160 bits, the HMAC-SHA-1 key length RFC 4226 section 4 recommends. */
const SECRET_BYTES = 20;
/** One step either way (CONTRACT section 11): a phone's clock a little off, or a code typed late. */
const WINDOW = 1;
const CODE_SHAPE = /^\d{6}$/;

/** A fresh random secret, base32 (32 characters). */
export function generateTotpSecret(): string {
  return new Secret({ size: SECRET_BYTES }).base32;
}

/**
 * The URI an authenticator app scans, in the contract's order:
 * `otpauth://totp/<issuer>:<username>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
 */
export function otpauthUri(issuer: string, username: string, secret: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(username)}`;
  const parameters = `algorithm=${ALGORITHM}&digits=${DIGITS}&period=${PERIOD_SECONDS}`;
  return `otpauth://totp/${label}?secret=${secret}&issuer=${encodeURIComponent(issuer)}&${parameters}`;
}

/** The URI as an SVG QR code (qrcode's own SVG output, error correction M). */
export function qrCodeSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: "svg", errorCorrectionLevel: "M", margin: 4 });
}

/** The step (Unix time / 30 s) a time falls in. */
export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / PERIOD_SECONDS);
}

/** Whether `code` is shaped like a TOTP code (six digits, spaces ignored) rather than a recovery code. */
export function looksLikeTotpCode(code: string): boolean {
  return CODE_SHAPE.test(code.replace(/\s/g, ""));
}

/**
 * The step whose code `code` is, within one step of `nowMs` either way.
 * @returns the step, or undefined when the code matches none (or is not six digits).
 */
export function matchTotpStep(secret: string, code: string, nowMs: number): number | undefined {
  const token = code.replace(/\s/g, "");
  if (!CODE_SHAPE.test(token)) return undefined;
  const totp = new TOTP({
    secret: Secret.fromBase32(secret),
    algorithm: ALGORITHM,
    digits: DIGITS,
    period: PERIOD_SECONDS,
  });
  // otpauth compares in constant time and answers the offset of the matching step.
  const delta = totp.validate({ token, timestamp: nowMs, window: WINDOW });
  return delta === null ? undefined : totpStep(nowMs) + delta;
}
