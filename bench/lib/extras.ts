/** Bench modules of other features (bench/formats.ts, bench/login-timing.ts), run when present, each in a child process. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runChild } from "./processes";

/**
 * The modules the runner looks for, compiled to dist-bench/bench/, and the exports it calls: `run`
 * returns a result (it goes into `--json` as it is) and `markdown` renders it under the runner's
 * tables. A module not listed here is found too when it follows the same convention:
 * `run<Something>Bench()` and `<something>Markdown(result)`.
 */
export const EXTRA_MODULES: readonly ExtraModule[] = [
  { name: "formats", run: "runFormatsBench", markdown: "formatsMarkdown" },
  { name: "login-timing", run: "measureLoginTiming", markdown: "formatLoginTiming" },
];

export interface ExtraModule {
  readonly name: string;
  readonly run: string;
  readonly markdown: string;
}

export interface ExtraReport {
  readonly name: string;
  readonly markdown: string;
  readonly json: unknown;
}

/** Runs every extra module that exists, one after another; one that fails is reported, not fatal. */
export async function runExtras(progress: (line: string) => void): Promise<ExtraReport[]> {
  const reports: ExtraReport[] = [];
  for (const module of EXTRA_MODULES) {
    if (!existsSync(join(__dirname, "..", `${module.name}.js`))) continue;
    progress(`extra module bench/${module.name}.ts`);
    const started = Date.now();
    const outcome = await runChild<{ markdown: string; json: unknown } | { failed: string }>("extra.js", [JSON.stringify(module)]).catch(
      (error: unknown) => ({ failed: error instanceof Error ? error.message : String(error) }),
    );
    progress(`extra module bench/${module.name}.ts took ${((Date.now() - started) / 1000).toFixed(0)} s`);
    reports.push(
      "failed" in outcome
        ? { name: module.name, markdown: `### bench/${module.name}.ts\n\nfailed: ${outcome.failed}\n`, json: { error: outcome.failed } }
        : { name: module.name, ...outcome },
    );
  }
  return reports;
}
