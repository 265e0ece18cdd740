/** Request bodies as text: UTF-8 only, declared or not, for every parser (GraphQL JSON, /token forms). */
import { isUtf8 } from "node:buffer";
import { parse as parseContentType } from "content-type";
import { InvalidUtf8Body, UnsupportedCharset } from "../errors";

const UTF8_NAMES = new Set(["utf-8", "utf8"]);

/**
 * Decodes a request body that must be UTF-8 text.
 * @param contentType the request's Content-Type header, whose `charset`, if any, must name UTF-8.
 * @throws UnsupportedCharset (415) for another charset or a Content-Type that cannot be parsed;
 * InvalidUtf8Body (400) for bytes that are not UTF-8. Decoding them anyway would turn every
 * invalid sequence into U+FFFD, so that any N bad bytes of a password would match any other N.
 */
export function bodyText(body: Buffer, contentType: string | undefined): string {
  if (contentType !== undefined && contentType.includes(";")) {
    let charset: string | undefined;
    try {
      charset = parseContentType(contentType).parameters.charset;
    } catch {
      throw new UnsupportedCharset();
    }
    if (charset !== undefined && !UTF8_NAMES.has(charset.toLowerCase())) throw new UnsupportedCharset();
  }
  if (!isUtf8(body)) throw new InvalidUtf8Body();
  return body.toString("utf8");
}

/**
 * The name-value pairs of an `application/x-www-form-urlencoded` body, parsed as URLSearchParams
 * does (WHATWG URL, section 5.1), except that percent-escapes decoding to bytes that are not
 * UTF-8 are refused rather than replaced by U+FFFD.
 * @throws InvalidUtf8Body (400) for such an escape.
 */
export function formPairs(text: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const sequence of text.split("&")) {
    if (sequence === "") continue;
    const equals = sequence.indexOf("=");
    const name = equals === -1 ? sequence : sequence.slice(0, equals);
    const value = equals === -1 ? "" : sequence.slice(equals + 1);
    pairs.push([percentDecode(name), percentDecode(value)]);
  }
  return pairs;
}

const HEX = /^[0-9a-fA-F]{2}$/;

function percentDecode(component: string): string {
  const spaced = component.replace(/\+/g, " ");
  if (!spaced.includes("%")) return spaced;
  const bytes = Buffer.from(spaced, "utf8");
  const out = Buffer.allocUnsafe(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    const hex = bytes[i] === 0x25 ? bytes.subarray(i + 1, i + 3).toString("latin1") : "";
    if (HEX.test(hex)) {
      out[length++] = Number.parseInt(hex, 16);
      i += 2;
    } else out[length++] = bytes[i]!;
  }
  const decoded = out.subarray(0, length);
  if (!isUtf8(decoded)) throw new InvalidUtf8Body();
  return decoded.toString("utf8");
}
