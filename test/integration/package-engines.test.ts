/**
 * package.json `engines` says what the installed tree needs: no package of the lock asks for a newer
 * Node (npm ci's EBADENGINE warnings).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { minVersion, satisfies } from "semver";

const ROOT = join(__dirname, "..", "..");
const readJson = (file: string) => JSON.parse(readFileSync(join(ROOT, file), "utf8"));

describe("engines", () => {
  const engines = (readJson("package.json") as { engines: { node: string } }).engines.node;
  const packages = Object.entries(
    (readJson("package-lock.json") as { packages: Record<string, { version?: string; engines?: unknown }> }).packages,
  );

  it("admits Node 20 from 20.19, 22 from 22.13 (otpauth's @noble/hashes, eslint-visitor-keys), and 24 on", () => {
    expect(minVersion(engines)?.version).toBe("20.19.0");
    expect(satisfies("20.18.3", engines)).toBe(false);
    expect(satisfies("21.7.3", engines)).toBe(false);
    expect(satisfies("22.12.0", engines)).toBe(false);
    expect(satisfies("22.13.0", engines)).toBe(true);
    expect(satisfies("24.0.0", engines)).toBe(true);
  });

  it.each(["20.19.0", "22.13.0", "24.0.0", process.versions.node])("every package of the lock accepts Node %s", (version) => {
    const refusing = packages
      .filter(([path, entry]) => path !== "" && typeof (entry.engines as { node?: unknown } | undefined)?.node === "string")
      .filter(([, entry]) => !satisfies(version, (entry.engines as { node: string }).node))
      .map(([path, entry]) => `${path}@${entry.version ?? "?"} wants node ${(entry.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });
});
