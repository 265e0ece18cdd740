/** METRICS_PORT on the built server: under WEB_CONCURRENCY=2 the primary alone listens and answers its workers' sum. */
import { createTestDatabase, DIALECTS, type TestDatabase } from "../harness";
import { listeningPorts, scrape } from "../prometheus-text";
import { requestOnNewConnection, spawnServer, type LogLine, type SpawnedServer } from "../spawned-server";

const isServing = (line: LogLine) => typeof line.msg === "string" && / serving on port \d+$/.test(line.msg);
const isReady = (line: LogLine) => line.msg === "database ready";
const isMetrics = (line: LogLine) => typeof line.msg === "string" && line.msg.startsWith("metrics served on ");
const LOGIN = (password: string) => ({ query: `mutation { login(username: "johndoe", password: "${password}") { accessToken } }` });

describe.each(DIALECTS)("metrics under WEB_CONCURRENCY=2 (%s)", (dialect) => {
  let database: TestDatabase;
  let server: SpawnedServer | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    server?.child.kill("SIGKILL");
    await database?.drop();
  });

  it("the primary listens on METRICS_PORT, the workers do not, and a scrape sums both workers' logins", async () => {
    server = spawnServer({ WEB_CONCURRENCY: "2", METRICS_PORT: "0", DATABASE_URL: database.url, SEED_DEMO_USERS: "true" });
    const spawned = server;
    await spawned.waitForLine((line) => spawned.lines.filter(isServing).length >= 2 && isServing(line), "two workers serving");
    await spawned.waitForLine((line) => spawned.lines.filter(isReady).length >= 2 && isReady(line), "both workers' databases ready");
    const announced = await spawned.waitForLine(isMetrics, "the metrics line");
    // Logged by the primary, once: the workers never listen there.
    expect(announced.pid).toBe(spawned.child.pid);
    expect(spawned.lines.filter(isMetrics)).toHaveLength(1);
    const url = announced.url as string;
    const metricsPort = Number(new URL(url).port);
    const serving = spawned.lines.filter(isServing);
    const apiPort = serving[0]!.port as number;
    const workerPids = serving.map((line) => line.workerPid as number);
    expect(listeningPorts(spawned.child.pid!)).toEqual([apiPort, metricsPort].sort((a, b) => a - b));
    for (const pid of workerPids) expect(listeningPorts(pid)).not.toContain(metricsPort);

    const before = await scrape(url);
    expect(before.status).toBe(200);
    expect(before.value("graphql_auth_logins_total", { outcome: "success" })).toBe(0);
    // One connection each, so the primary hands them to the workers in turn.
    const logins = 6;
    for (let i = 0; i < logins; i += 1) {
      const answer = await requestOnNewConnection(apiPort, "/graphql", LOGIN("secret"));
      expect(answer.body.data.login.accessToken).toEqual(expect.any(String));
    }
    expect((await requestOnNewConnection(apiPort, "/graphql", LOGIN("not-his"))).body.errors[0].message).toBe(
      "Incorrect username or password",
    );
    // Both workers served some of them (each logs its requests with its own pid).
    const servedBy = new Set(
      spawned.lines.filter((line) => line.msg === "request completed" && workerPids.includes(line.pid as number)).map((line) => line.pid),
    );
    expect(servedBy).toEqual(new Set(workerPids));

    const after = await scrape(url);
    expect(after.value("graphql_auth_logins_total", { outcome: "success" })).toBe(logins);
    expect(after.value("graphql_auth_logins_total", { outcome: "failure" })).toBe(1);
    // Every login verified a password; the workers' dummy hashes at start add to the hash count.
    expect(after.value("graphql_auth_password_hash_seconds_count", { operation: "verify" })).toBeGreaterThanOrEqual(logins + 1);
    expect(after.value("graphql_auth_password_hash_seconds_count", { operation: "hash" })).toBeGreaterThanOrEqual(2);
    expect(after.value("graphql_auth_hash_queue_length")).toBe(0);
    expect(after.value("process_cpu_user_seconds_total")).toEqual(expect.any(Number));

    spawned.child.kill("SIGTERM");
    expect(await spawned.exited).toBe(0);
  });
});

describe("METRICS_PORT unset on the built server", () => {
  let server: SpawnedServer | undefined;
  afterAll(() => {
    server?.child.kill("SIGKILL");
  });

  it("listens on the API's port alone", async () => {
    server = spawnServer({ DATABASE_URL: "sqlite::memory:" });
    const spawned = server;
    const listening = await spawned.waitForLine((line) => typeof line.url === "string" && line.url.endsWith("/graphql"), "listening");
    const apiPort = Number(new URL(listening.url as string).port);
    await spawned.waitForLine(isReady, "database ready");
    expect(listeningPorts(spawned.child.pid!)).toEqual([apiPort]);
    expect(spawned.lines.filter(isMetrics)).toHaveLength(0);
    spawned.child.kill("SIGTERM");
    expect(await spawned.exited).toBe(0);
  });
});
