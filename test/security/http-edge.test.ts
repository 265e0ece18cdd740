/**
 * ATTACKS.md, resources and hygiene at the HTTP edge: H1 (document cache), H2 (slow clients),
 * H6 (no-store), H12 (Host, Content-Encoding), and bodies that are not UTF-8.
 */
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { gzipSync } from "node:zlib";
import { createTestDatabase, DIALECTS, startTestServer, type TestDatabase, type TestServer } from "../harness";
import { spawnServer, type SpawnedServer } from "../spawned-server";

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: any;
}

/** One request with exactly these headers (Host included) and body bytes, on a connection of its own. */
function send(baseUrl: string, method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((done, fail) => {
    const req = request({ host: hostname, port, method, path, agent: false, headers: { connection: "close", ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        done({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on("error", fail);
    req.end(body);
  });
}

/** Resolves with what the server wrote once it closes the socket, or with undefined after `guardMs`. */
function closedWithin(socket: Socket, guardMs: number): Promise<string | undefined> {
  return new Promise((done) => {
    const chunks: Buffer[] = [];
    const guard = setTimeout(() => done(undefined), guardMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(guard);
      done(Buffer.concat(chunks).toString("latin1"));
    });
  });
}

function open(baseUrl: string): Promise<Socket> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((done, fail) => {
    const socket = connect(Number(port), hostname, () => done(socket));
    socket.once("error", fail);
  });
}

const LOGIN = "mutation L($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken refreshToken } }";

// Far beyond the shortened limits below, far below the old code's (never, or node's 60 s).
const GUARD_MS = 15_000;
const SHORT_LIMITS = {
  headersTimeoutMs: 1_000,
  requestTimeoutMs: 1_500,
  connectionTimeoutMs: 3_000,
  keepAliveTimeoutMs: 1_000,
  connectionsCheckingIntervalMs: 100,
  maxConnections: 30,
};

describe.each(DIALECTS)("HTTP edge attacks (%s)", (dialect) => {
  describe("with short limits", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ dialect, httpLimits: SHORT_LIMITS });
    });
    afterAll(async () => {
      await server?.close();
    });

    it("H2: a body promised by Content-Length: 60000 with one byte sent, then silence, is cut by the request timeout; /healthz and queries are served meanwhile", async () => {
      const socket = await open(server.url);
      const closed = closedWithin(socket, GUARD_MS);
      socket.write("POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{");
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect((await server.gql("{ status }")).body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      const written = await closed;
      expect(written).toBeDefined();
      expect(written === "" || written!.startsWith("HTTP/1.1 408")).toBe(true);
    });

    it("H2: headers trickled a line at a time and never finished are cut by the headers timeout, though the socket is never idle", async () => {
      const socket = await open(server.url);
      const closed = closedWithin(socket, GUARD_MS);
      socket.write("POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      let n = 0;
      const trickle = setInterval(() => socket.writable && socket.write(`X-Slow-${n++}: a\r\n`), 100);
      try {
        expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
        const written = await closed;
        expect(written).toBeDefined();
        expect(written === "" || written!.startsWith("HTTP/1.1 408")).toBe(true);
      } finally {
        clearInterval(trickle);
      }
    });

    it("H2: a connection that never sends a byte, and an idle keep-alive connection, are closed by their timeouts", async () => {
      const silent = await open(server.url);
      const silentClosed = closedWithin(silent, GUARD_MS);
      const kept = await open(server.url);
      const keptClosed = closedWithin(kept, GUARD_MS);
      kept.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      expect(await silentClosed).toBeDefined();
      const answered = await keptClosed;
      expect(answered).toMatch(/^HTTP\/1\.1 200 /);
      // Nothing after the one answer: the connection was closed idle, not by another request.
      expect(answered!.match(/HTTP\/1\.1/g)).toHaveLength(1);
    });

    it("H2: connections beyond the cap are closed as they are accepted; once the held ones time out, new clients are served", async () => {
      const dropped = new Promise<boolean>((done) => {
        const guard = setTimeout(() => done(false), GUARD_MS);
        server.app.http.fastify.server.once("drop", () => {
          clearTimeout(guard);
          done(true);
        });
      });
      const held: Socket[] = [];
      const closings: Array<Promise<string | undefined>> = [];
      for (let i = 0; i < SHORT_LIMITS.maxConnections + 5; i++) {
        const socket = await open(server.url);
        held.push(socket);
        closings.push(closedWithin(socket, GUARD_MS));
      }
      expect(await dropped).toBe(true);
      // Every one of them is closed, by the cap or by the headers timeout, and the server answers again.
      expect(await Promise.all(closings)).not.toContain(undefined);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    });
  });

  describe("at the default limits", () => {
    let server: TestServer;
    let development: TestServer;
    let listed: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ dialect });
      development = await startTestServer({ dialect, env: { NODE_ENV: "development" } });
      listed = await startTestServer({ dialect, env: { ALLOWED_HOSTS: "api.example.com" } });
    });
    afterAll(async () => {
      await server?.close();
      await development?.close();
      await listed?.close();
    });

    it("H2: the server runs with the contract's bounds: 10 s for headers, 30 s for a request, a timeout for idle sockets, a cap of at least 1,000 connections", () => {
      const node = server.app.http.fastify.server;
      expect(node.headersTimeout).toBeGreaterThan(0);
      expect(node.headersTimeout).toBeLessThanOrEqual(10_000);
      expect(node.requestTimeout).toBeGreaterThan(0);
      expect(node.requestTimeout).toBeLessThanOrEqual(30_000);
      expect(node.timeout).toBeGreaterThan(0);
      expect(node.keepAliveTimeout).toBeGreaterThan(0);
      expect(node.maxConnections).toBeGreaterThanOrEqual(1_000);
    });

    it("H6: login, refresh and changePassword answers, an error answer, a GET and a malformed body all carry Cache-Control: no-store", async () => {
      const user = await server.createUser();
      const login = await server.gql(LOGIN, { u: user.username, p: user.password });
      expect(login.body.data.login.accessToken).toEqual(expect.any(String));
      expect(login.headers.get("cache-control")).toBe("no-store");

      const refreshed = await server.gql("mutation R($t: String!) { refresh(refreshToken: $t) { accessToken } }", {
        t: login.body.data.login.refreshToken,
      });
      expect(refreshed.body.data.refresh.accessToken).toEqual(expect.any(String));
      expect(refreshed.headers.get("cache-control")).toBe("no-store");

      const changed = await server.gql(
        "mutation C($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }",
        { c: user.password, n: `${user.password}-new` },
        { token: refreshed.body.data.refresh.accessToken },
      );
      expect(changed.body.data.changePassword.accessToken).toEqual(expect.any(String));
      expect(changed.headers.get("cache-control")).toBe("no-store");

      const wrong = await server.gql(LOGIN, { u: user.username, p: "not-the-password" });
      expect(wrong.body.errors?.[0]?.message).toBe("Incorrect username or password");
      expect(wrong.headers.get("cache-control")).toBe("no-store");

      const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent("{ status }")}`, {
        headers: { "apollo-require-preflight": "1" },
      });
      expect(get.headers.get("cache-control")).toBe("no-store");
      const malformed = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{not json",
      });
      expect(malformed.status).toBe(400);
      expect(malformed.headers.get("cache-control")).toBe("no-store");
      const landing = await fetch(`${development.url}/graphql`, { headers: { accept: "text/html" } });
      expect(landing.headers.get("content-type")).toMatch(/^text\/html/);
      expect(landing.headers.get("cache-control")).toBe("no-store");
    });

    it("H12: a development server refuses a foreign Host with 421 and a JSON body on every route, and answers its own names", async () => {
      const port = new URL(development.url).port;
      for (const path of ["/graphql", "/healthz"]) {
        const refused = await send(
          development.url,
          "POST",
          path,
          { host: `rebind.attacker.example:${port}`, "content-type": "application/json" },
          JSON.stringify({ query: "{ status }" }),
        );
        expect(refused.status).toBe(421);
        expect(refused.json).toEqual({ error: "misdirected_request", message: "This server does not answer for that host" });
      }
      const token = await send(
        development.url,
        "POST",
        "/token",
        { host: "rebind.attacker.example", "content-type": "application/x-www-form-urlencoded" },
        "grant_type=password&username=johndoe&password=secret",
      );
      expect(token.status).toBe(421);
      expect(token.json.error).toBe("invalid_request");
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, "LOCALHOST.", "localhost"]) {
        expect((await send(development.url, "GET", "/healthz", { host })).status).toBe(200);
      }
    });

    it("H12: production answers any Host unless ALLOWED_HOSTS names them; the port is not part of the name", async () => {
      expect((await send(server.url, "GET", "/healthz", { host: "anything.example" })).status).toBe(200);
      expect((await send(listed.url, "GET", "/healthz", { host: "api.example.com:443" })).status).toBe(200);
      expect((await send(listed.url, "GET", "/healthz", { host: "localhost" })).status).toBe(421);
    });

    it("H12: a body with Content-Encoding gzip (or any but identity) is refused with 415 and a JSON body, on /graphql and /token", async () => {
      const query = JSON.stringify({ query: "{ status }" });
      for (const encoding of ["gzip", "br", "deflate, identity"]) {
        const refused = await send(
          server.url,
          "POST",
          "/graphql",
          { host: "localhost", "content-type": "application/json", "content-encoding": encoding },
          gzipSync(query),
        );
        expect(refused.status).toBe(415);
        expect(refused.json).toEqual({
          error: "unsupported_media_type",
          message: "Unsupported Content-Encoding: send the body without one",
        });
      }
      const form = await send(
        server.url,
        "POST",
        "/token",
        { host: "localhost", "content-type": "application/x-www-form-urlencoded", "content-encoding": "gzip" },
        gzipSync("grant_type=password&username=a&password=b"),
      );
      expect(form.status).toBe(415);
      expect(form.json.error).toBe("invalid_request");
      const identity = await send(
        server.url,
        "POST",
        "/graphql",
        { host: "localhost", "content-type": "application/json", "content-encoding": "identity" },
        query,
      );
      expect(identity.status).toBe(200);
    });

    it("H5: a body that is not valid UTF-8 gets 400 on /graphql and /token, percent-escapes in forms included; a charset other than utf-8 gets 415", async () => {
      const user = await server.createUser();
      // The same password with two different invalid bytes: both used to become U+FFFD.
      const jsonWith = (bytes: Buffer) =>
        Buffer.concat([
          Buffer.from(`{"query":${JSON.stringify(LOGIN)},"variables":{"u":"${user.username}","p":"pw-`),
          bytes,
          Buffer.from('"}}'),
        ]);
      const invalidJson = await send(
        server.url,
        "POST",
        "/graphql",
        { "content-type": "application/json" },
        jsonWith(Buffer.from([0xff, 0xfe])),
      );
      expect(invalidJson.status).toBe(400);
      expect(invalidJson.json).toEqual({ error: "invalid_body", message: "The request body is not valid UTF-8" });

      const form = (password: Buffer | string) =>
        Buffer.concat([Buffer.from(`grant_type=password&username=${user.username}&password=`), Buffer.from(password)]);
      for (const body of [form(Buffer.from([0xc3, 0x28])), form("pw-%FF%FE")]) {
        const refused = await send(server.url, "POST", "/token", { "content-type": "application/x-www-form-urlencoded" }, body);
        expect(refused.status).toBe(400);
        expect(refused.json).toEqual({ error: "invalid_request", error_description: "The request body is not valid UTF-8" });
      }

      const latin1 = await send(
        server.url,
        "POST",
        "/graphql",
        { "content-type": "application/json; charset=iso-8859-1" },
        JSON.stringify({ query: "{ status }" }),
      );
      expect(latin1.status).toBe(415);
      expect(latin1.json).toEqual({ error: "unsupported_media_type", message: "Unsupported charset: request bodies must be UTF-8" });
      const latin1Form = await send(
        server.url,
        "POST",
        "/token",
        { "content-type": "application/x-www-form-urlencoded; charset=ISO-8859-1" },
        form(user.password),
      );
      expect(latin1Form.status).toBe(415);
      expect(latin1Form.json.error).toBe("invalid_request");

      // Valid UTF-8, declared or not, still works, escapes included.
      const declared = await send(
        server.url,
        "POST",
        "/token",
        { "content-type": "application/x-www-form-urlencoded; charset=UTF-8" },
        form(encodeURIComponent(user.password)),
      );
      expect(declared.status).toBe(200);
      const utf8Json = await send(
        server.url,
        "POST",
        "/graphql",
        { "content-type": "application/json; charset=utf-8" },
        JSON.stringify({ query: LOGIN, variables: { u: user.username, p: user.password } }),
      );
      expect(utf8Json.json.data.login.accessToken).toEqual(expect.any(String));
    });
  });

  describe("H1, a spawned server with a small heap", () => {
    let database: TestDatabase;
    let spawned: SpawnedServer | undefined;
    beforeAll(async () => {
      database = await createTestDatabase(dialect);
    });
    afterAll(async () => {
      spawned?.child.kill("SIGKILL");
      await database?.drop();
    });

    it("H1: thousands of unique documents padded with a comment under the body limit: the process keeps answering, its heap within its limit", async () => {
      spawned = spawnServer({ DATABASE_URL: database.url, NODE_OPTIONS: `--max-old-space-size=${HEAP_MIB}` });
      const server = spawned;
      const listening = await server.waitForLine((line) => typeof line.url === "string", "the listening line", 60_000);
      const base = new URL(listening.url as string).origin;
      const padding = "x".repeat(60_000);
      let next = 0;
      // Each document costs the old cache about 400 bytes of its 30 MiB and the heap 60 kB:
      // FLOOD of them hold several times the heap limit.
      const worker = async () => {
        while (next < FLOOD && server.child.exitCode === null) {
          const i = next++;
          const response = await fetch(`${base}/graphql`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ query: `{ status } # ${i} ${padding}` }),
          }).catch(() => undefined);
          if (response) await response.arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: 4 }, worker));
      expect(server.stderr()).not.toMatch(/heap limit|out of memory/i);
      expect(server.child.exitCode).toBeNull();
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect(server.lines.filter((line) => /heap/i.test(String(line.msg)))).toEqual([]);
    }, 180_000);
  });
});

const HEAP_MIB = 128;
const FLOOD = 6_000;
