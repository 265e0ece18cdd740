/** The scope grammar of RFC 6749 section 3.3, and the rules for granting and narrowing scopes. */
import { InvalidScope, ScopeNotGranted, UnknownScope } from "../errors";

/** scope-token = 1*( %x21 / %x23-5B / %x5D-7E ): printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/**
 * scope = scope-token *( SP scope-token ): one U+0020 between tokens. NBSP, U+3000, tabs and other
 * control characters are neither separators nor scope characters.
 */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*$/;
/** What our own lists may use between tokens (stored rows, signed claims, an operator's input). */
const LIST_SEPARATORS = /[ \t\r\n]+/;

/**
 * The longest scope request read, in UTF-16 units over all entries and their separators: far beyond
 * any list this server grants, and short enough that no answer or log line grows with it.
 */
export const MAX_SCOPE_REQUEST_LENGTH = 1024;

/** Whether `text` is one scope-token of RFC 6749 section 3.3. */
export function isScopeToken(text: string): boolean {
  return SCOPE_TOKEN.test(text);
}

/**
 * A client's scope request (GraphQL `login(scopes:)`, `POST /token`'s `scope`), undefined when
 * absent. Each entry is a scope string of RFC 6749 section 3.3, so ["me items"] and
 * ["me", "items", "me"] ask for the same: the tokens, in order, without repeats. [] asks for none.
 * Checked before anything else is done with the request.
 * @throws InvalidScope (a fixed message, echoing nothing) for an entry that breaks the grammar,
 *   or a request longer than MAX_SCOPE_REQUEST_LENGTH.
 */
export function parseRequestedScopes(entries: readonly string[] | null | undefined): string[] | undefined {
  if (entries === undefined || entries === null) return undefined;
  let length = 0;
  for (const entry of entries) {
    length += entry.length + 1;
    // Checked entry by entry, so a huge list stops at the bound instead of being joined first.
    if (length > MAX_SCOPE_REQUEST_LENGTH + 1) throw new InvalidScope();
    if (!SCOPE.test(entry)) throw new InvalidScope();
  }
  return [...new Set(entries.flatMap((entry) => entry.split(" ")))];
}

/**
 * A list of scopes we wrote or an operator typed (a token's `scope` claim, `users add --scopes`, an
 * import line): tokens separated by runs of ASCII white space, without repeats. Lenient only in its
 * separators, so a claim reads the same way every time whatever spacing its issuer chose.
 * @throws InvalidScope carrying the first token that breaks the grammar (for operator messages).
 */
export function readScopeList(text: string): string[] {
  const scopes = [...new Set(text.split(LIST_SEPARATORS).filter(Boolean))];
  const bad = scopes.find((scope) => !SCOPE_TOKEN.test(scope));
  if (bad !== undefined) throw new InvalidScope(bad);
  return scopes;
}

/**
 * What a login grants: without a request, every scope the account holds; with one (already
 * parsed by parseRequestedScopes), exactly those asked for.
 * @throws UnknownScope naming the first scope the account does not hold.
 */
export function grantScopes(held: readonly string[], requested: readonly string[] | undefined): string[] {
  return pickScopes(held, requested, (missing) => new UnknownScope(missing));
}

/**
 * What a refresh grants: without a request, every scope still available; with one (already
 * parsed), exactly those asked for, never more than the login granted (RFC 6749 section 6).
 * @throws ScopeNotGranted naming the first scope beyond what is available.
 */
export function narrowScopes(available: readonly string[], requested: readonly string[] | undefined): string[] {
  return pickScopes(available, requested, (beyond) => new ScopeNotGranted(beyond));
}

/** The one rule behind both: all of `available` unless asked, else the request if it is within `available`. */
function pickScopes(available: readonly string[], requested: readonly string[] | undefined, refuse: (scope: string) => Error): string[] {
  if (requested === undefined) return [...available];
  const outside = requested.find((scope) => !available.includes(scope));
  if (outside !== undefined) throw refuse(outside);
  return [...requested];
}

/** The scope POST /introspect requires of its caller's bearer token (a resource server's account). */
export const INTROSPECT_SCOPE = "introspect";

/**
 * Every scope a field or endpoint of this server checks, as the metadata's `scopes_supported`
 * lists them (RFC 8414). An account may hold others, for the other services its tokens reach.
 */
export const SERVER_SCOPES: readonly string[] = Object.freeze(["me", "items", "admin", INTROSPECT_SCOPE]);
