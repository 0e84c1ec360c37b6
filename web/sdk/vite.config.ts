import { fileURLToPath } from "node:url";
import { build, defineConfig, type InlineConfig } from "vite";

// The browser SDK the platform serves at /sdk/: monitor.js (a classic script that starts from
// its tag), monitor.mjs (the same as an ES module) and replay.js (rrweb, loaded on demand).
// It builds after the app, whose build empties dist/app.
const src = (name: string) => fileURLToPath(new URL(`./src/${name}`, import.meta.url));
const outDir = fileURLToPath(new URL("../dist/app/sdk", import.meta.url));

const lib = (entry: string, emptyOutDir: boolean, formats: ("iife" | "es")[], name?: string): InlineConfig => ({
  configFile: false,
  build: {
    outDir,
    emptyOutDir,
    target: "es2019",
    // Whitespace too: Vite leaves an ES library readable for its users' bundlers.
    rolldownOptions: { output: { minify: true } },
    lib: { entry: src(entry), name, formats, fileName: (format, base) => `${base === "auto" ? "monitor" : base}.${format === "es" ? "mjs" : "js"}` },
  },
});

// One `vite build --config sdk/vite.config.ts` makes all three: an IIFE build takes one entry,
// so replay.js is built by a second build when the first is written.
export default defineConfig({
  ...lib("auto.ts", true, ["iife", "es"], "EcodeMonitor"),
  plugins: [{ name: "ecode-sdk-replay", apply: "build", closeBundle: () => build(lib("replay.ts", false, ["iife"], "EcodeReplay")).then(() => {}) }],
});
