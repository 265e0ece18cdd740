/** The one-time account tokens (verification, reset): issue, look up, spend. Touches `account_tokens` only. */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { type Kysely } from "kysely";
import { type AccountTokensTable, type Database } from "../db/database";

export type TokenPurpose = AccountTokensTable["purpose"];

/** 256 random bits (CONTRACT section 10), written as 43 base64url characters. */
const TOKEN_BYTES = 32;
/** What a well-formed token looks like; anything else is refused without a query. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** A live token's row, as the use cases need it. */
export interface TokenGrant {
  readonly userId: string;
  /** digest(...) of what the token was issued for; the use case compares it with the account now. */
  readonly binding: string;
}

/** Hex SHA-256: how tokens and bindings are stored (a copy of the table holds no usable token). */
export function digest(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * Issues a token for `userId`, bound to `binding`, living `lifetimeMs` from `now`; pass the use
 * case's transaction, so the token exists only if the mail carrying it is queued too. Rows that
 * have expired are deleted on the way (an index on expires_at keeps that cheap).
 * @returns the token itself, for the mail; only its digest is stored.
 */
export async function issueAccountToken(
  db: Kysely<Database>,
  grant: TokenGrant & { readonly purpose: TokenPurpose; readonly lifetimeMs: number; readonly now: number },
): Promise<string> {
  await db.deleteFrom("account_tokens").where("expires_at", "<=", grant.now).execute();
  const token = randomBytes(TOKEN_BYTES).toString("base64url");
  await db
    .insertInto("account_tokens")
    .values({
      id: randomUUID(),
      token_hash: digest(token),
      user_id: grant.userId,
      purpose: grant.purpose,
      binding: grant.binding,
      created_at: grant.now,
      expires_at: grant.now + grant.lifetimeMs,
      used_at: null,
    })
    .execute();
  return token;
}

/** The live (unspent, unexpired) token of that purpose, without spending it; undefined otherwise. */
export async function findLiveAccountToken(
  db: Kysely<Database>,
  token: string,
  purpose: TokenPurpose,
  now: number,
): Promise<TokenGrant | undefined> {
  if (!TOKEN_SHAPE.test(token)) return undefined;
  const row = await db
    .selectFrom("account_tokens")
    .select(["user_id", "binding"])
    .where("token_hash", "=", digest(token))
    .where("purpose", "=", purpose)
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  return row && { userId: row.user_id, binding: row.binding };
}

/**
 * Spends a live token in one conditional UPDATE, so of two uses at once (two tabs, two instances)
 * exactly one finds it unspent.
 * @returns what it was issued for, or undefined when it is unknown, spent, expired or of another purpose.
 */
export async function spendAccountToken(
  db: Kysely<Database>,
  token: string,
  purpose: TokenPurpose,
  now: number,
): Promise<TokenGrant | undefined> {
  if (!TOKEN_SHAPE.test(token)) return undefined;
  const row = await db
    .updateTable("account_tokens")
    .set({ used_at: now })
    .where("token_hash", "=", digest(token))
    .where("purpose", "=", purpose)
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .returning(["user_id", "binding"])
    .executeTakeFirst();
  return row && { userId: row.user_id, binding: row.binding };
}
