import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const backend = process.env.ECODE_DEV_BACKEND ?? "http://127.0.0.1:8080";

// The Go server embeds web/dist and serves web/dist/app; web/dist/.gitkeep keeps
// the embed pattern valid before the first build, so only dist/app is emptied.
export default defineConfig({
  base: "/",
  plugins: [react(), tailwindcss()],
  resolve: {
    alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) },
  },
  build: {
    outDir: "dist/app",
    emptyOutDir: true,
    chunkSizeWarningLimit: 700,
  },
  server: {
    proxy: {
      "/api": { target: backend, changeOrigin: false, ws: true },
      "/metrics": { target: backend },
    },
  },
});
