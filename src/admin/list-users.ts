/** The admin's list of users: a page in username order behind opaque cursors, searched by part of username or email. */
import { InvalidCursor, PageSizeOutOfRange } from "../errors";
import { type UserStore } from "../users/user.store";
import { type UserConnection } from "./user-connection.entity";

export interface UserPage {
  readonly first: number;
  readonly after?: string | null;
  readonly search?: string | null;
}

const MAX_PAGE = 100;
/** Longer than any username (150) or address (254) this server stores: such a search matches nothing. */
const MAX_SEARCH_CHARS = 254;
/** A cursor's version prefix, so that its format can change without old cursors being misread. */
const CURSOR_PREFIX = "u1:";
/** A username_key is at most 150 characters, each at most 4 bytes (and base64 adds a third). */
const MAX_CURSOR_CHARS = 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * A page of users ordered by username (its case-insensitive key), with `totalCount` of the
 * search. A page starts strictly after its cursor's username, so users inserted or deleted between
 * pages neither repeat nor skip the others. `search` matches part of the username or of the email,
 * in any case (the username's NFKC key, the lower-cased address); `%` and `_` match themselves.
 * @throws PageSizeOutOfRange for `first` outside 1..100, InvalidCursor for an `after` this server
 *   did not hand out.
 */
export async function pageOfUsers(users: UserStore, page: UserPage): Promise<UserConnection> {
  if (!Number.isInteger(page.first) || page.first < 1 || page.first > MAX_PAGE) throw new PageSizeOutOfRange();
  const afterKey = page.after === undefined || page.after === null ? undefined : decodeCursor(page.after);
  const search = page.search?.normalize("NFKC").trim().toLowerCase();
  // PostgreSQL text cannot hold NUL, and nothing stored is longer: no query for what cannot match.
  if (search !== undefined && (search.includes("\0") || [...search].length > MAX_SEARCH_CHARS)) {
    return { edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0 };
  }
  // One more than asked for says whether there is a next page.
  const found = await users.pageUsers({ afterKey, limit: page.first + 1, search });
  const shown = found.users.slice(0, page.first);
  const edges = shown.map((node, i) => ({ cursor: encodeCursor(found.keys[i]!), node }));
  return {
    edges,
    pageInfo: { hasNextPage: found.users.length > page.first, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: found.total,
  };
}

function encodeCursor(usernameKey: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${usernameKey}`, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  const wellFormed = cursor.length <= MAX_CURSOR_CHARS && BASE64URL.test(cursor);
  const text = wellFormed ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  const key = text.startsWith(CURSOR_PREFIX) ? text.slice(CURSOR_PREFIX.length) : "";
  // Re-encoding must give the same text back: anything else was not made here.
  if (key === "" || key.includes("\0") || encodeCursor(key) !== cursor) throw new InvalidCursor();
  return key;
}
