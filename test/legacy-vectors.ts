/** The legacy-hash vectors made by passlib, Django, pyca/bcrypt and argon2-cffi (test/fixtures). */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface LegacyVector {
  readonly id: string;
  readonly format: string;
  readonly library: string;
  readonly password: string;
  readonly hash: string;
  readonly wrong: string;
  readonly also_verifies?: readonly string[];
  readonly also_rejects?: readonly string[];
  readonly truncation?: boolean;
}

export interface HostileHash {
  readonly family: string;
  readonly hash: string;
  readonly why: string;
}

const fixture = JSON.parse(readFileSync(join(__dirname, "fixtures", "legacy-hashes.json"), "utf8")) as {
  vectors: LegacyVector[];
  hostile: HostileHash[];
};

export const LEGACY_VECTORS: readonly LegacyVector[] = fixture.vectors;
export const HOSTILE_HASHES: readonly HostileHash[] = fixture.hostile;
/** One vector per format, for the slower end-to-end checks. */
export const ONE_VECTOR_PER_FORMAT: readonly LegacyVector[] = [...new Map(fixture.vectors.map((v) => [v.format, v] as const)).values()];
