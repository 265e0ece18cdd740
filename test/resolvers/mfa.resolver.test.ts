/** MfaResolver without HTTP: its methods over the real stores with a constructed context, then through Apollo. */
import { Secret, TOTP } from "otpauth";
import { contextForViewer } from "../../src/auth/context";
import { MfaResolver } from "../../src/mfa/mfa.resolver";
import { type Viewer } from "../../src/users/viewer";
import { createTestApp, movableClock, type TestApp, type TestUser } from "../harness";

describe("MfaResolver", () => {
  const clock = movableClock(Date.UTC(2031, 6, 1, 9, 0, 10));
  let t: TestApp;
  let resolver: MfaResolver;
  beforeAll(async () => {
    t = await createTestApp({ clock });
    resolver = new MfaResolver(t.app.mfa);
  });
  afterAll(async () => t?.close());

  const viewerOf = (user: TestUser): Viewer => ({
    user: user.user,
    scopes: ["me", "items"],
    tokenId: "t",
    issuedAt: 1,
  });
  const codeAt = (secret: string, ms: number) => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: ms });

  describe("level 1: the methods", () => {
    it("enrol, confirm, mfaEnabled, then verifyMfa with the mfaToken a login earned", async () => {
      const user = await t.createUser();
      const ctx = contextForViewer(viewerOf(user));
      const enrolment = await resolver.enrollTotp(ctx);
      expect(await resolver.mfaEnabled(user.user)).toBe(false);
      const codes = await resolver.confirmTotp({ code: codeAt(enrolment.secret, clock.now()) }, ctx);
      expect(codes).toHaveLength(10);
      expect(await resolver.mfaEnabled(user.user)).toBe(true);

      const login = await t.execute("mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }", {
        u: user.username,
        p: user.password,
      });
      const mfaToken = login.errors?.[0]?.extensions?.mfaToken as string;
      clock.advance(30_000);
      const payload = await resolver.verifyMfa({ mfaToken, code: codeAt(enrolment.secret, clock.now()) }, ctx);
      expect(payload.tokenType).toBe("bearer");
      await expect(resolver.verifyMfa({ mfaToken, code: codes[0]! }, ctx)).rejects.toMatchObject({
        code: "UNAUTHENTICATED",
        message: "Invalid or expired MFA token",
      });
    });
  });

  describe("level 2: through Apollo", () => {
    it("the enrolment mutations need a token; with one, enrollTotp answers the three fields", async () => {
      const anonymous = await t.execute("mutation { enrollTotp { secret } }");
      expect(anonymous.errors).toEqual([
        expect.objectContaining({ message: "Not authenticated", extensions: { code: "UNAUTHENTICATED" } }),
      ]);
      const user = await t.createUser();
      const token = await t.tokenFor(user.id);
      const enrolled = await t.execute("mutation { enrollTotp { secret otpauthUri qrCodeSvg } }", {}, { token });
      expect(enrolled.data?.enrollTotp).toEqual({
        secret: expect.stringMatching(/^[A-Z2-7]{32}$/),
        otpauthUri: expect.stringMatching(/^otpauth:\/\/totp\/graphql-auth-server:/),
        qrCodeSvg: expect.stringMatching(/^<svg /),
      });
      const me = await t.execute("{ me { mfaEnabled } }", {}, { token });
      expect(me.data).toEqual({ me: { mfaEnabled: false } });
    });
  });
});
