/** The Authorization header as the client sent it, every copy of it: the input of every bearer check. */

/**
 * The Authorization header as sent: Node keeps only the first of several, which would let a
 * second one pass unseen, so the raw list decides.
 */
export function authorizationOf(rawHeaders: readonly string[]): string | string[] | undefined {
  let found: string[] | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length === 13 && rawHeaders[i]!.toLowerCase() === "authorization") (found ??= []).push(rawHeaders[i + 1]!);
  }
  return found === undefined ? undefined : found.length === 1 ? found[0] : found;
}
