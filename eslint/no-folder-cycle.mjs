// A rule of our own: no two folders of src/ import each other, directly or through others.
// import-x/no-cycle sees cycles between modules; this one sees them between folders (features),
// which is the rule DEVELOPERS.md states ("two folders that import each other are a defect").
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;"']*?from\s*["'](\.[^"']+)["']/g;
let graph;

/** The folder a file of src/ belongs to: its first path segment, or "." for src/*.ts leaves. */
function folderOf(srcRoot, file) {
  const parts = relative(srcRoot, file).split(sep);
  return parts.length > 1 ? parts[0] : ".";
}

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith(".ts") && !name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

/** Folder → folders it imports (production code only; tests may reach anywhere in src/). */
function buildGraph(srcRoot) {
  const edges = new Map();
  for (const file of walk(srcRoot, [])) {
    const from = folderOf(srcRoot, file);
    for (const match of readFileSync(file, "utf8").matchAll(IMPORT)) {
      const target = resolve(dirname(file), match[1]);
      if (!target.startsWith(srcRoot + sep)) continue;
      const to = folderOf(srcRoot, target);
      if (to === from || to === "." || from === ".") continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from).add(to);
    }
  }
  return edges;
}

function reaches(edges, from, to, seen = new Set()) {
  if (from === to) return true;
  if (seen.has(from)) return false;
  seen.add(from);
  for (const next of edges.get(from) ?? []) if (reaches(edges, next, to, seen)) return true;
  return false;
}

export default {
  meta: {
    type: "problem",
    docs: { description: "forbid an import from a folder of src/ that imports this folder back" },
    messages: { cycle: "src/{{from}} imports src/{{to}}, which imports src/{{from}} back (a folder cycle)" },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const marker = `${sep}src${sep}`;
    const at = file.lastIndexOf(marker);
    if (at < 0 || file.endsWith(".test.ts")) return {};
    const srcRoot = file.slice(0, at + marker.length - 1);
    graph ??= buildGraph(srcRoot);
    const from = folderOf(srcRoot, file);
    if (from === ".") return {};
    const check = (node) => {
      const spec = node.source?.value;
      if (typeof spec !== "string" || !spec.startsWith(".")) return;
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(srcRoot + sep)) return;
      const to = folderOf(srcRoot, target);
      if (to === from || to === ".") return;
      if (reaches(graph, to, from)) context.report({ node, messageId: "cycle", data: { from, to } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};
