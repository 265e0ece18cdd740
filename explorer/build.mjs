// Builds the offline explorer (explorer/ → dist/explorer/) with esbuild: one script, one style
// sheet and Monaco's three workers, fonts inlined, nothing fetched from elsewhere at run time.
// Skipped when its inputs (these files and package-lock.json) are unchanged since the last build.
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const source = join(root, "explorer");
const outdir = join(root, "dist", "explorer");
const stampFile = join(outdir, ".inputs-sha256");
const outputs = ["index.html", "explorer.js", "explorer.css", "editor.worker.js", "json.worker.js", "graphql.worker.js"];

const inputs = createHash("sha256");
for (const name of readdirSync(source).sort()) inputs.update(name).update(readFileSync(join(source, name)));
inputs.update(readFileSync(join(root, "package-lock.json")));
const stamp = inputs.digest("hex");

const current =
  existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp && outputs.every((name) => existsSync(join(outdir, name)));
if (!current) {
  const started = Date.now();
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: {
      explorer: join(source, "main.jsx"),
      "editor.worker": "monaco-editor/esm/vs/editor/editor.worker.js",
      "json.worker": "monaco-editor/esm/vs/language/json/json.worker.js",
      "graphql.worker": "monaco-graphql/esm/graphql.worker.js",
    },
    outdir,
    bundle: true,
    format: "iife",
    minify: true,
    target: "es2022",
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"production"' },
    // Fonts (GraphiQL's and Monaco's icons) go into the style sheet, so no font is fetched at all.
    loader: { ".ttf": "dataurl", ".woff": "dataurl", ".woff2": "dataurl" },
    legalComments: "eof",
    logLevel: "warning",
  });
  copyFileSync(join(source, "index.html"), join(outdir, "index.html"));
  writeFileSync(stampFile, stamp);
  console.log(`explorer built into dist/explorer in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
