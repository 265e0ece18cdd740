/** `graphql-auth keys generate`: a new signing key pair in JWT_KEYS_DIR. */
import { type Command, Option } from "commander";
import { generateSigningKey } from "../auth/keys";
import { type AsymmetricAlgorithm } from "../auth/jwk";
import { commandGroup } from "./command";
import { type CliRuntime } from "./runtime";

const ALGORITHMS: readonly AsymmetricAlgorithm[] = ["RS256", "ES256", "EdDSA"];

/**
 * Registers `keys generate [--alg A]`: writes a private key (PKCS #8 PEM, mode 0600) named by UTC
 * time, so it signs from the next start while the older keys keep verifying. Prints its `kid` on
 * stdout; the file and what to do next go to stderr. Without `--alg`, JWT_ALGORITHM if it is
 * asymmetric, else ES256.
 */
export function registerKeysCommand(program: Command, runtime: CliRuntime): void {
  commandGroup(program, "keys", "manage the signing keys of RS256, ES256 and EdDSA")
    .command("generate")
    .description("write a new key pair into JWT_KEYS_DIR (mode 0600) and print its kid; it signs from the next start")
    .addOption(
      new Option("--alg <algorithm>", "signing algorithm (default: JWT_ALGORITHM when asymmetric, else ES256)").choices(ALGORITHMS),
    )
    .action(async (options: { alg?: AsymmetricAlgorithm }) => {
      const config = runtime.config();
      const algorithm = options.alg ?? (config.jwtAlgorithm === "HS256" ? "ES256" : config.jwtAlgorithm);
      const made = await generateSigningKey(config.jwtKeysDir, algorithm);
      runtime.print(made.kid);
      const hint =
        config.jwtAlgorithm === algorithm
          ? "it signs from the next start"
          : `it signs once the server starts with JWT_ALGORITHM=${algorithm} (now ${config.jwtAlgorithm})`;
      runtime.io.stderr.write(`Wrote ${algorithm} key ${made.file}; ${hint}\n`);
    });
}
