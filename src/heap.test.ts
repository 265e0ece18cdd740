import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HEAP_GROWING_PERCENT, limitHeapGrowth, SERVER_NODE_FLAGS, withServerNodeFlags } from "./heap";

const ROOT = join(__dirname, "..");

describe("limitHeapGrowth", () => {
  it("leaves a growing factor given on the command line or in NODE_OPTIONS alone", () => {
    expect(limitHeapGrowth(["--heap-growing-percent=50"], "")).toBeUndefined();
    expect(limitHeapGrowth(["--heap_growing_percent=50"], "")).toBeUndefined();
    expect(limitHeapGrowth([], "--max-old-space-size=512 --heap-growing-percent=35")).toBeUndefined();
  });

  it("sets the server's factor otherwise (in a process of its own: V8 flags are per process)", () => {
    const script = `process.stdout.write(String(require(${JSON.stringify(join(ROOT, "dist", "heap.js"))}).limitHeapGrowth([], "")))`;
    const out = execFileSync(process.execPath, ["-e", script], { encoding: "utf8", env: { PATH: process.env.PATH ?? "" } });
    expect(out).toBe(String(HEAP_GROWING_PERCENT));
  });
});

describe("SERVER_NODE_FLAGS", () => {
  it("are added to a worker's command line unless it sizes the same space itself", () => {
    expect(withServerNodeFlags([])).toEqual([...SERVER_NODE_FLAGS]);
    expect(withServerNodeFlags(["--inspect"])).toEqual(["--inspect", ...SERVER_NODE_FLAGS]);
    expect(withServerNodeFlags(["--max-semi-space-size=32"])).toEqual(["--max-semi-space-size=32"]);
    expect(withServerNodeFlags(["--max_semi_space_size=32"])).toEqual(["--max_semi_space_size=32"]);
  });

  it("are the flags `npm start` passes to node", () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(scripts.start).toContain(`node ${SERVER_NODE_FLAGS.join(" ")} dist/main.js`);
  });
});
