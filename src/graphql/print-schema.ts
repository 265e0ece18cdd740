/** Prints the served schema as SDL: `npm run schema` writes it to schema.graphql. */
import "reflect-metadata";
import { printSchema } from "graphql";
import { appResolvers, buildAppSchema, schemaOnlyDeps } from "./schema";

/** The SDL exactly as schema.graphql holds it (with its final newline). */
export async function printAppSchema(): Promise<string> {
  return `${printSchema(await buildAppSchema(appResolvers(schemaOnlyDeps())))}\n`;
}

if (require.main === module) {
  printAppSchema().then(
    (sdl) => process.stdout.write(sdl),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
