import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  server: {
    // The preview is served from another host name than localhost.
    allowedHosts: true,
  },
});
