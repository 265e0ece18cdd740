/** A sign-up server over a real SMTP server, and the helpers the account suites share (CONTRACT section 10). */
import { randomBytes } from "node:crypto";
import { type ParsedMail } from "mailparser";
import {
  capturingLogger,
  movableClock,
  startTestServer,
  uniqueName,
  type GraphQLResponse,
  type MovableClock,
  type TestDialect,
  type TestServer,
} from "../harness";
import { startSmtpSink, waitFor, type SmtpSink } from "../smtp-sink";

/** Fast polls; retries due after 1 s of the injected clock. */
export const FAST_MAIL = {
  pollIntervalMs: 20,
  retry: { initialDelayMs: 1_000, maxDelayMs: 60_000 },
  retryForMs: 60 * 60_000,
  shutdownGraceMs: 300,
};
export const APP_URL = "https://app.example.com/accounts";
export const MINUTE = 60_000;

export const REGISTER = `mutation($username: String!, $email: String!, $password: String!, $fullName: String) {
  register(username: $username, email: $email, password: $password, fullName: $fullName) {
    id username email fullName emailVerified scopes
  }
}`;
export const VERIFY = "mutation($token: String!) { verifyEmail(token: $token) }";
export const REQUEST_RESET = "mutation($email: String!) { requestPasswordReset(email: $email) }";
export const RESET = "mutation($token: String!, $newPassword: String!) { resetPassword(token: $token, newPassword: $newPassword) }";

/** One error, exactly this code and message (and these extensions), and no data. */
export function expectError(response: GraphQLResponse, code: string, message: string, extensions: Record<string, unknown> = {}): void {
  expect(response.status).toBe(200);
  expect(response.body.data ?? null).toBeNull();
  expect(response.body.errors).toEqual([expect.objectContaining({ message, extensions: { code, ...extensions } })]);
}

/** A client address nobody else uses in this run, so each test has its own per-address budgets. */
export function newAddress(): string {
  const [a, b] = randomBytes(2);
  return `198.51.${a}.${b}`;
}

export interface AccountsServer {
  readonly server: TestServer;
  readonly sink: SmtpSink;
  readonly clock: MovableClock;
  /** Everything the server logged. */
  logs(): string;
  /** The X-Forwarded-For address `gql` sends (TRUST_PROXY=1); a fresh one before each test. */
  address: string;
  gql(query: string, variables: Record<string, unknown>, token?: string): Promise<GraphQLResponse>;
  mailsTo(to: string): ParsedMail[];
  /** Waits until `count` mails to `to` have arrived; returns them all. */
  nextMailTo(to: string, count?: number): Promise<ParsedMail[]>;
  /** Outbox rows for `to`, sent or not. */
  queuedFor(to: string): Promise<number>;
  /** The token from the mail's link, which must be APP_URL's page with the token in the fragment. */
  tokenIn(mail: ParsedMail, page: "verify-email" | "reset-password"): string;
  /** Registers through the real mutation. */
  registerUser(
    email?: string,
  ): Promise<{ username: string; email: string; password: string; user: Record<string, unknown> & { id: string } }>;
  /** An account made by the store, as an operator would (verified), with a real argon2id hash. */
  addUser(email: string, options?: { disabled?: boolean }): Promise<{ username: string; password: string; id: string }>;
}

/** Starts the server and the SMTP sink in beforeAll, stops them in afterAll. */
export function useAccountsServer(dialect: TestDialect): AccountsServer {
  let server: TestServer;
  let sink: SmtpSink;
  let logs: () => string;
  const clock = movableClock();
  beforeAll(async () => {
    sink = await startSmtpSink();
    const captured = capturingLogger();
    logs = captured.lines;
    server = await startTestServer({
      dialect,
      clock,
      logger: captured.logger,
      env: { SMTP_URL: sink.url, REGISTRATION: "open", APP_URL: `${APP_URL}/`, TRUST_PROXY: "1" },
      mail: FAST_MAIL,
    });
  });
  afterAll(async () => {
    await server?.close();
    await sink?.close();
  });

  const mailsTo = (to: string) => sink.received.filter((r) => r.envelopeTo.includes(to)).map((r) => r.mail);
  const fixture: AccountsServer = {
    get server() {
      return server;
    },
    get sink() {
      return sink;
    },
    clock,
    logs: () => logs(),
    address: newAddress(),
    gql: (query, variables, token) => server.gql(query, variables, { token, headers: { "x-forwarded-for": fixture.address } }),
    mailsTo,
    nextMailTo: async (to, count = 1) => {
      await waitFor(() => mailsTo(to).length >= count, `${count} mail(s) to ${to}`);
      return mailsTo(to);
    },
    queuedFor: async (to) => {
      const row = await server.app.database.db
        .selectFrom("mail_outbox")
        .select((eb) => eb.fn.countAll<number | string>().as("n"))
        .where("recipient", "=", to)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    tokenIn: (mail, page) => {
      const link = new RegExp(`${APP_URL.replace(/[./]/g, "\\$&")}/${page}#token=([A-Za-z0-9_-]{43})(?:\\s|$)`);
      const match = link.exec(mail.text ?? "");
      expect(match).not.toBeNull();
      return match![1]!;
    },
    registerUser: async (email = `${uniqueName("r")}@example.com`) => {
      const username = uniqueName("Reg");
      const password = `pw-${randomBytes(8).toString("hex")}`;
      const response = await fixture.gql(REGISTER, { username, email, password, fullName: "Reg Istered" });
      expect(response.body.errors).toBeUndefined();
      return { username, email, password, user: response.body.data.register };
    },
    addUser: async (email, options = {}) => {
      const username = uniqueName("Known");
      const password = `pw-${randomBytes(8).toString("hex")}`;
      const user = await server.app.users.createUser({
        username,
        email,
        passwordHash: await server.app.passwords.hash(password),
        scopes: ["me", "items"],
        disabled: options.disabled,
      });
      return { username, password, id: user.id };
    },
  };
  beforeEach(() => {
    fixture.address = newAddress();
  });
  return fixture;
}
