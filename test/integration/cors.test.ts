/** CORS (CONTRACT 15, ATTACKS H13) over plain HTTP: preflights, allowed and refused origins, and Apollo's CSRF check kept. */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TEST_SECRET, startTestServer, type TestServer } from "../harness";

const ALLOWED = "http://localhost:3000";
const PREFLIGHT_HEADERS = "content-type, authorization, apollo-require-preflight, x-apollo-operation-name";

function preflight(url: string, origin: string, requestHeaders = "content-type,authorization"): Promise<Response> {
  return fetch(url, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": requestHeaders },
  });
}

function headerList(value: string | null): string[] {
  return (value ?? "")
    .split(",")
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== "");
}

// CORS is decided before any database work, so one dialect is enough here.
describe("CORS with CORS_ORIGINS=http://localhost:*,https://app.example.com", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { CORS_ORIGINS: "http://localhost:*,https://app.example.com" } });
  });
  afterAll(async () => server?.close());

  it.each(["/graphql", "/token", "/revoke", "/introspect"])(
    "answers a preflight to %s from an allowed origin 204 with the headers a GraphQL client sends",
    async (path) => {
      const response = await preflight(`${server.url}${path}`, ALLOWED, PREFLIGHT_HEADERS.replace(/ /g, ""));
      expect(response.status).toBe(204);
      expect(response.headers.get("access-control-allow-origin")).toBe(ALLOWED);
      expect(headerList(response.headers.get("access-control-allow-methods"))).toEqual(expect.arrayContaining(["get", "post"]));
      expect(headerList(response.headers.get("access-control-allow-headers"))).toEqual(
        expect.arrayContaining(headerList(PREFLIGHT_HEADERS)),
      );
      expect(headerList(response.headers.get("vary"))).toContain("origin");
      expect(response.headers.get("access-control-allow-credentials")).toBeNull();
      expect(await response.text()).toBe("");
    },
  );

  it("matches an exact origin and any port of a wildcard one, and nothing else", async () => {
    for (const origin of ["https://app.example.com", "http://localhost:5173", "http://localhost"]) {
      const response = await preflight(`${server.url}/graphql`, origin);
      expect([origin, response.status]).toEqual([origin, 204]);
      expect(response.headers.get("access-control-allow-origin")).toBe(origin);
    }
    for (const origin of [
      "http://evil.example",
      "https://localhost:3000",
      "http://app.example.com",
      "https://app.example.com:8443",
      "http://localhost.evil.example:3000",
      "null",
    ]) {
      const response = await preflight(`${server.url}/graphql`, origin);
      expect([origin, response.headers.get("access-control-allow-origin")]).toEqual([origin, null]);
      expect(headerList(response.headers.get("vary"))).toContain("origin");
    }
  });

  it("lets an allowed origin's JSON POST through Apollo's CSRF check and names the origin on the answer", async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { origin: ALLOWED, "content-type": "application/json" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: "Query" } });
    expect(response.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(headerList(response.headers.get("access-control-expose-headers"))).toEqual(
      expect.arrayContaining(["www-authenticate", "retry-after"]),
    );

    // Apollo's CSRF prevention still refuses a simple request (a GET without a preflight-forcing
    // header), which a browser would send cross-origin without asking first.
    const simple = await fetch(`${server.url}/graphql?query=%7B__typename%7D`, { headers: { origin: ALLOWED } });
    expect(simple.status).toBe(400);
    expect(await simple.text()).toContain("This operation has been blocked as a potential Cross-Site Request Forgery (CSRF)");
  });

  it("gives no CORS headers to paths outside the API", async () => {
    expect((await preflight(`${server.url}/graphql`, ALLOWED)).headers.get("access-control-allow-origin")).toBe(ALLOWED);
    const health = await fetch(`${server.url}/healthz`, { headers: { origin: ALLOWED } });
    expect(health.status).toBe(200);
    expect(health.headers.get("access-control-allow-origin")).toBeNull();
    const options = await preflight(`${server.url}/healthz`, ALLOWED);
    expect(options.status).toBe(404);
    expect(options.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("CORS defaults", () => {
  it("allows any local port in development, and no origin in production", async () => {
    const development = await startTestServer({ env: { NODE_ENV: "development" } });
    try {
      for (const origin of ["http://localhost:3000", "http://127.0.0.1:8080"]) {
        expect((await preflight(`${development.url}/graphql`, origin)).headers.get("access-control-allow-origin")).toBe(origin);
      }
      expect((await preflight(`${development.url}/graphql`, "http://example.com")).headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await development.close();
    }
    const production = await startTestServer({ env: { NODE_ENV: "production" } });
    try {
      const response = await preflight(`${production.url}/graphql`, "http://localhost:3000");
      expect(response.status).toBe(204);
      expect(response.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await production.close();
    }
  });

  it("lets CORS_ORIGINS=* allow any origin outside production", async () => {
    const server = await startTestServer({ env: { CORS_ORIGINS: "*" } });
    try {
      const response = await preflight(`${server.url}/token`, "https://anything.example");
      expect(response.headers.get("access-control-allow-origin")).toBe("https://anything.example");
      expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    } finally {
      await server.close();
    }
  });
});

describe("CORS_ORIGINS=* in production", () => {
  it("stops start-up with one line naming the key and exit code 1", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "graphql-auth-cors-"));
    const child = spawn(process.execPath, [resolve(__dirname, "..", "..", "dist", "main.js")], {
      cwd,
      env: {
        PATH: process.env.PATH ?? "",
        NODE_ENV: "production",
        SECRET_KEY: TEST_SECRET,
        PORT: "0",
        DATABASE_URL: `sqlite:${join(cwd, "db.sqlite")}`,
        CORS_ORIGINS: "*",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    // A server that starts instead of refusing is killed, so the test fails rather than hangs.
    const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const code = await new Promise<number | null>((exited) => child.on("exit", (status) => exited(status)));
    clearTimeout(kill);
    expect(code).toBe(1);
    expect(stderr).toBe("Invalid configuration: CORS_ORIGINS must not be * in production (list the origins that may call the API)\n");
  });
});
