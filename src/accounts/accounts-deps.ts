/** What the account use cases are built from, and the limits they count (CONTRACT section 10). */
import { type ActionBudget, type ActionLimiter, type LoginLimiter } from "../auth/rate-limit";
import { type Kysely } from "kysely";
import { type Clock } from "../clock";
import { type AccountsConfig } from "../config";
import { RateLimited } from "../errors";
import { type Database } from "../db/database";
import { type Logger } from "../log";
import { type Mail } from "../mail/mail";
import { type PasswordService } from "../passwords/passwords";
import { type UserStore } from "../users/user.store";

export interface AccountsDeps {
  /** For the token store's reads outside a transaction. */
  readonly db: Kysely<Database>;
  readonly users: UserStore;
  readonly passwords: PasswordService;
  readonly mail: Pick<Mail, "configured" | "enqueueMail">;
  /** The failed-login counters: a reset clears the username's. */
  readonly limiter: LoginLimiter;
  /** The per-address and per-email counters, in the same shared table. */
  readonly actions: ActionLimiter;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly config: AccountsConfig;
}

const FIFTEEN_MINUTES = 15 * 60 * 1000;
export const VERIFICATION_LIFETIME_MS = 24 * 60 * 60 * 1000;
export const RESET_LIFETIME_MS = 30 * 60 * 1000;

/** Per client address, per 15 minutes. */
export const REGISTER_BUDGET: ActionBudget = { action: "register", max: 10, windowMs: FIFTEEN_MINUTES };
export const RESET_REQUEST_BUDGET: ActionBudget = { action: "reset", max: 5, windowMs: FIFTEEN_MINUTES };
export const VERIFICATION_REQUEST_BUDGET: ActionBudget = { action: "verify", max: 5, windowMs: FIFTEEN_MINUTES };
/** Per e-mail address: the mails of at most 3 reset requests an hour; later ones answer true and send nothing. */
export const RESET_MAIL_BUDGET: ActionBudget = { action: "reset-mail", max: 3, windowMs: 60 * 60 * 1000 };

/**
 * Counts one call against a client address's budget.
 * @throws RateLimited (with retryAfter) once the budget of the window is spent.
 */
export async function countCall(deps: AccountsDeps, budget: ActionBudget, clientAddress: string): Promise<void> {
  const retryAfter = await deps.actions.count(budget, clientAddress);
  if (retryAfter > 0) throw new RateLimited(retryAfter, "requests");
}
