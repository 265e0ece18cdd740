/** Bench child: runs one extra bench module (see lib/extras.ts) and sends back its result and markdown. */
import { join } from "node:path";
import type { ExtraModule } from "../lib/extras";

type Exported = Record<string, unknown>;
type Fn = (...args: unknown[]) => unknown;

function pick(exported: Exported, name: string, convention: RegExp): Fn | undefined {
  const key =
    typeof exported[name] === "function"
      ? name
      : Object.keys(exported).find((k) => convention.test(k) && typeof exported[k] === "function");
  return key === undefined ? undefined : (exported[key] as Fn);
}

async function main(): Promise<void> {
  const module = JSON.parse(process.argv[2]!) as ExtraModule;
  const exported = require(join(__dirname, "..", `${module.name}.js`)) as Exported;
  const run = pick(exported, module.run, /^run\w*Bench$/);
  if (!run) throw new Error(`bench/${module.name}.ts exports no ${module.run}`);
  const markdown = pick(exported, module.markdown, /Markdown$/);
  const json = await run();
  process.send!({
    json,
    markdown: markdown ? String(markdown(json)) : `### bench/${module.name}.ts\n\n\`\`\`\n${JSON.stringify(json, null, 2)}\n\`\`\`\n`,
  });
}

main().catch((error: unknown) => {
  process.send?.({ failed: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
});
