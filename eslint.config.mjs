// ESLint: typescript-eslint's recommended rules, promises handled, no import cycle, and the layer rule
// (DEVELOPERS.md: http → graphql → resolvers → use cases → stores → db, shared leaves below all).
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import folderCycles from "./eslint/no-folder-cycle.mjs";

const ROOT_FILES = "./src/{app,main,cluster,heap}.ts";
const LAYER_ZONES = [
  { target: "./src/**", from: ["./test/**", "./bench/**"], message: "src/ must not depend on tests or benchmarks" },
  {
    target: "./src/{config,errors,log,log-redact,clock}.ts",
    from: ["./src/*/**", ROOT_FILES],
    message: "a shared leaf imports no feature folder",
  },
  { target: "./src/db/**", from: ["./src/!(db)/**", ROOT_FILES], message: "db/ sits below every feature" },
  {
    target: "./src/passwords/**",
    from: ["./src/!(passwords)/**", ROOT_FILES],
    message: "passwords/ is a leaf: it imports no feature folder",
  },
  {
    target: "./src/!(cli|http)/**",
    from: ["./src/cli/**", "./src/http/**"],
    message: "only the composition root reaches the doors (http/, cli/)",
  },
];

export default tseslint.config(
  { ignores: ["dist/**", "dist-bench/**", "coverage/**", "node_modules/**", "explorer/dist/**", "data/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { "import-x": importX, local: { rules: { "no-folder-cycle": folderCycles } } },
    settings: { "import-x/resolver-next": [createTypeScriptImportResolver({ project: "tsconfig.json" })] },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false, attributes: false } }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "import-x/no-cycle": "error",
      "import-x/no-self-import": "error",
      "local/no-folder-cycle": "error",
      // Prettier wraps code at 140; this catches what it cannot wrap (comments), not strings or URLs.
      "max-len": ["error", { code: 140, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true }],
      // The layers (DEVELOPERS.md): src never imports test/ or bench/; the shared leaves, db/ and
      // passwords/ import no feature; only the composition root reaches the doors (http/, cli/).
      "import-x/no-restricted-paths": ["error", { zones: LAYER_ZONES }],
    },
  },
  {
    // Unit tests beside the code may use the shared test fixtures.
    files: ["src/**/*.test.ts"],
    rules: { "import-x/no-restricted-paths": "off" },
  },
  {
    // Migrations are frozen in time and take Kysely<any> (STYLE 7); tests and benchmarks read untyped JSON answers.
    files: ["src/db/migrations/**", "src/db/migrate.ts", "test/**", "bench/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["bench/**", "test/**"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { ...globals.node, ...globals.browser }, sourceType: "module" },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["jest.config.js", "test/fixtures/*.js"],
    languageOptions: { sourceType: "commonjs", globals: globals.node },
  },
);
