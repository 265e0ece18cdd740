/** Optional bench modules beside the runner (bench/formats.ts, bench/login-timing.ts, ...), run when present. */
import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * The modules the runner looks for, compiled to dist-bench/bench/. The convention each follows:
 * export `run<Something>Bench(): Promise<R>` and `<something>Markdown(result: R): string`; the
 * result goes into `--json` as it is, the markdown under the runner's tables.
 */
export const EXTRA_MODULES = ["formats", "login-timing"] as const;

export interface ExtraReport {
  readonly name: string;
  readonly markdown: string;
  readonly json: unknown;
}

type Exported = Record<string, unknown>;

/** Runs every extra module that exists; one that fails is reported, not fatal. */
export async function runExtras(progress: (line: string) => void): Promise<ExtraReport[]> {
  const reports: ExtraReport[] = [];
  for (const name of EXTRA_MODULES) {
    const file = join(__dirname, "..", `${name}.js`);
    if (!existsSync(file)) continue;
    const exported = require(file) as Exported;
    const run = findFunction(exported, (key) => /^run\w*Bench$/.test(key));
    const markdown = findFunction(exported, (key) => /Markdown$/.test(key));
    if (!run) {
      reports.push({ name, markdown: `### ${name}\n\nskipped: the module exports no run…Bench function\n`, json: { skipped: true } });
      continue;
    }
    progress(`extra module ${name}`);
    try {
      const result = await run();
      reports.push({ name, markdown: markdown ? String(markdown(result)) : `### ${name}\n\n\`\`\`\n${JSON.stringify(result, null, 2)}\n\`\`\`\n`, json: result });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      reports.push({ name, markdown: `### ${name}\n\nfailed: ${message}\n`, json: { error: message } });
    }
  }
  return reports;
}

function findFunction(exported: Exported, test: (key: string) => boolean): ((...args: unknown[]) => unknown) | undefined {
  const key = Object.keys(exported).find((k) => test(k) && typeof exported[k] === "function");
  return key === undefined ? undefined : (exported[key] as (...args: unknown[]) => unknown);
}
