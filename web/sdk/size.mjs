// Prints the SDK's sizes and fails when monitor.js, gzipped, is over its budget (issue 18:
// 10 kB without replay, which pages load only when a session is recorded).
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const BUDGET = 10_000;
const dir = new URL("../dist/app/sdk/", import.meta.url);
let over = false;
for (const name of ["monitor.js", "monitor.mjs", "replay.js"]) {
  const data = readFileSync(new URL(name, dir));
  const gz = gzipSync(data, { level: 9 }).length;
  const budget = name === "monitor.js" ? BUDGET : undefined;
  over ||= budget !== undefined && gz > budget;
  console.log(`sdk/${name}: ${data.length} B, ${gz} B gzipped${budget ? ` (budget ${budget} B)` : ""}`);
}
if (over) {
  console.error(`sdk/monitor.js is over its budget of ${BUDGET} B gzipped`);
  process.exit(1);
}
