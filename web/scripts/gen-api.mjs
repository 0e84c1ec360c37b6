// Writes src/lib/schema.gen.ts, the API's types, from docs/openapi.yaml
// (npm run gen:api). With --check it writes nothing and fails when the file
// differs from what the spec gives now (npm run check:api, part of typecheck).
import { readFile, writeFile } from "node:fs/promises";
import openapiTS, { astToString } from "openapi-typescript";

const spec = new URL("../../docs/openapi.yaml", import.meta.url);
const out = new URL("../src/lib/schema.gen.ts", import.meta.url);
const header = "// Generated from docs/openapi.yaml by `npm run gen:api`; do not edit.\n\n";

const text = header + astToString(await openapiTS(spec));
const current = await readFile(out, "utf8").catch(() => "");
if (current === text) process.exit(0); // left alone, so make sees nothing new
if (process.argv.includes("--check")) {
  console.error("web/src/lib/schema.gen.ts is out of date with docs/openapi.yaml: run npm run gen:api");
  process.exit(1);
}
await writeFile(out, text);
