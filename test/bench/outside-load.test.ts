/** The pinned bench's load generator: wrk's report read right, and a real wrk run counted as the server saw it. */
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseWrk, runOutsideLoad } from "../../bench/lib/outside-load";

// As wrk 4.1 prints it with --latency (units change with the magnitude).
const REPORT = `Running 5s test @ http://127.0.0.1:38001/graphql
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.04ms    3.10ms   1.02s    91.08%
    Req/Sec     7.10k     1.09k    9.36k    79.80%
  Latency Distribution
     50%  812.00us
     75%    3.98ms
     90%   10.41ms
     99%    1.18s
  35440 requests in 5.00s, 18.30MB read
  Non-2xx or 3xx responses: 40
  Socket errors: connect 0, read 2, write 0, timeout 3
Requests/sec:   7087.92
Transfer/sec:      3.66MB
`;

describe("parseWrk", () => {
  it("reads p50 and p99 in their units, and counts non-2xx and socket errors as failures", () => {
    expect(parseWrk(REPORT)).toEqual({
      requestsPerSecond: (35440 - 40) / 5,
      p50Ms: 0.812,
      p99Ms: 1180,
      responses: 35400,
      failures: 45,
    });
  });

  it("refuses output without a summary", () => {
    expect(() => parseWrk("unable to connect to 127.0.0.1:1 Connection refused")).toThrow("no summary");
  });
});

const hasWrk = (() => {
  try {
    execFileSync("taskset", ["-c", "0", "true"]);
    return execFileSync("wrk", ["--version"], { encoding: "utf8" }).startsWith("wrk");
  } catch (error) {
    // wrk --version exits 1 after printing its version.
    return String((error as { stdout?: unknown }).stdout ?? "").startsWith("wrk");
  }
})();

(hasWrk ? describe : describe.skip)("runOutsideLoad with wrk", () => {
  let server: Server;
  let url: string;
  let seen: Array<{ method?: string; authorization?: string; body: string }> = [];
  const dir = mkdtempSync(join(tmpdir(), "outside-load-"));
  beforeAll(async () => {
    let n = 0;
    server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        seen.push({ method: request.method, authorization: request.headers.authorization, body });
        // Every fifth answer is a 503: those are failures, not responses.
        response.writeHead(++n % 5 === 0 ? 503 : 200, { "content-type": "application/json" }).end("{}");
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    if (typeof address !== "object" || !address) throw new Error("no address");
    url = `http://127.0.0.1:${address.port}/graphql`;
  });
  afterAll(async () => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends the method, headers and body of the spec, and counts 503s as failures", async () => {
    seen = [];
    const body = JSON.stringify({ query: "{ me { id } }", note: "quotes ' and ]] survive" });
    const result = await runOutsideLoad("wrk", {
      request: { url, method: "POST", headers: { "Content-Type": "application/json", Authorization: "Bearer abc.def" }, body },
      connections: 2,
      seconds: 1,
      core: 0,
      serverPid: process.pid,
      scratchDir: dir,
    });
    expect(seen.length).toBeGreaterThan(10);
    expect(new Set(seen.map((s) => `${s.method} ${s.authorization} ${s.body}`))).toEqual(new Set([`POST Bearer abc.def ${body}`]));
    expect(result.failures).toBeGreaterThan(0);
    // Answers still in flight when wrk stops are seen by the server but not counted by wrk.
    expect(result.responses + result.failures).toBeLessThanOrEqual(seen.length);
    expect(result.responses + result.failures).toBeGreaterThanOrEqual(seen.length - 2);
    expect(result.failures).toBeGreaterThanOrEqual(Math.floor((result.responses + result.failures) / 5) - 2);
    expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
  });
});
