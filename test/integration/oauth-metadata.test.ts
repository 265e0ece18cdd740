/**
 * CONTRACT section 13's RFC 8414 metadata, read by a real client: openid-client discovers the server
 * from it, then introspects and revokes through the endpoints it names (both dialects).
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { getMetadataStorage } from "type-graphql";
import { DIALECTS, startTestServer, type TestServer } from "../harness";
import { loginPair, postToken } from "../support";
import { createTcpProxy, type TcpProxy } from "../tcp-proxy";

const CLIENT = resolve(__dirname, "..", "fixtures", "oauth-client.mjs");
const MFA_OTP_GRANT = "http://auth0.com/oauth/grant-type/mfa-otp";

interface ClientRun {
  metadata: Record<string, unknown>;
  results: Array<{ ok?: any; error?: { name: string; code?: string; status?: number; message: string } }>;
}

/** Runs the openid-client program (ESM only, so a process of its own) against `server`. */
function runClient(input: { server: string; bearer: string; steps: Array<{ op: "introspect" | "revoke"; token: string }> }) {
  return new Promise<ClientRun>((done, fail) => {
    const child = execFile(process.execPath, [CLIENT], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) return fail(new Error(`oauth-client failed: ${stderr || error.message}`));
      done(JSON.parse(stdout) as ClientRun);
    });
    child.stdin!.end(JSON.stringify(input));
  });
}

describe.each(DIALECTS)("RFC 8414 metadata, read by openid-client (%s)", (dialect) => {
  let serverPort = 0;
  let proxy: TcpProxy;
  let server: TestServer;
  let publicUrl: string;
  beforeAll(async () => {
    // PUBLIC_URL names a proxy in front of the server, as in production: its port is known before
    // the server starts on an ephemeral one. JWT_ISSUER is the same URL, as discovery requires.
    proxy = await createTcpProxy(
      {
        host: "127.0.0.1",
        get port() {
          return serverPort;
        },
      },
      { open: true },
    );
    publicUrl = `http://127.0.0.1:${proxy.port}`;
    server = await startTestServer({ dialect, env: { PUBLIC_URL: publicUrl, JWT_ISSUER: publicUrl } });
    serverPort = Number(new URL(server.url).port);
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
  });

  const metadata = async () => {
    const response = await fetch(`${publicUrl}/.well-known/oauth-authorization-server`);
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
  };

  it("names the issuer, every endpoint under PUBLIC_URL, the grants, scopes and client authentication as they are", async () => {
    const response = await metadata();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.headers.get("cache-control")).toBe("public, max-age=300");
    expect(response.body).toEqual({
      issuer: publicUrl,
      token_endpoint: `${publicUrl}/token`,
      jwks_uri: `${publicUrl}/.well-known/jwks.json`,
      revocation_endpoint: `${publicUrl}/revoke`,
      introspection_endpoint: `${publicUrl}/introspect`,
      grant_types_supported: ["password", "refresh_token", MFA_OTP_GRANT],
      scopes_supported: ["me", "items", "admin", "introspect"],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: ["none"],
      revocation_endpoint_auth_methods_supported: ["none"],
    });
  });

  it("lists exactly the grants /token accepts, and every scope a field of the schema checks", async () => {
    const { body } = await metadata();
    // A listed grant type gets past the grant switch (to a missing parameter); another is unsupported.
    for (const grantType of body.grant_types_supported) {
      const response = await postToken(server, new URLSearchParams({ grant_type: grantType }).toString());
      expect({ grantType, error: response.body.error }).toEqual({ grantType, error: "invalid_request" });
    }
    const other = await postToken(server, "grant_type=client_credentials");
    expect(other.body.error).toBe("unsupported_grant_type");

    const checked = new Set(getMetadataStorage().authorizedFields.flatMap((field) => field.roles as string[]));
    expect(checked.size).toBeGreaterThan(0);
    for (const scope of checked) expect(body.scopes_supported).toContain(scope);
  });

  it("openid-client discovers the server, introspects with a bearer holding introspect, and revokes as a public client", async () => {
    const user = await server.createUser();
    const pair = await loginPair(server, user.username, user.password);
    const rs = await server.createUser({ prefix: "rs", scopes: ["introspect"] });
    const bearer = await server.login(rs.username, rs.password);

    const run = await runClient({
      server: publicUrl,
      bearer,
      steps: [
        { op: "introspect", token: pair.accessToken },
        { op: "introspect", token: pair.refreshToken },
        { op: "revoke", token: pair.refreshToken },
        { op: "introspect", token: pair.accessToken },
        { op: "introspect", token: pair.refreshToken },
        { op: "revoke", token: "an unknown token" },
      ],
    });
    expect(run.metadata).toEqual((await metadata()).body);
    const [access, refresh, revoked, accessAfter, refreshAfter, unknown] = run.results;
    expect(access).toEqual({
      ok: expect.objectContaining({ active: true, token_type: "access_token", sub: user.id, username: user.username, iss: publicUrl }),
    });
    expect(refresh).toEqual({ ok: expect.objectContaining({ active: true, token_type: "refresh_token", sub: user.id }) });
    expect(revoked).toEqual({ ok: null });
    expect(accessAfter).toEqual({ ok: { active: false } });
    expect(refreshAfter).toEqual({ ok: { active: false } });
    expect(unknown).toEqual({ ok: null });
  });

  it("openid-client sees the 401 challenge when its bearer lacks scope introspect", async () => {
    const user = await server.createUser();
    const pair = await loginPair(server, user.username, user.password);
    const run = await runClient({ server: publicUrl, bearer: pair.accessToken, steps: [{ op: "introspect", token: pair.accessToken }] });
    expect(run.results[0]!.error).toMatchObject({ status: 401 });
  });
});
