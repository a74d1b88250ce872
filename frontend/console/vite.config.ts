import { fileURLToPath, URL } from "node:url";
import vue from "@vitejs/plugin-vue";
import Components from "unplugin-vue-components/vite";
import { ElementPlusResolver } from "unplugin-vue-components/resolvers";
import { defineConfig } from "vite";

const outDir = fileURLToPath(new URL("../../src/xindai/web/console", import.meta.url));

// The console is served by `xindai serve` at /admin/ (api/static.py); in development
// (`npm run dev`) the API is proxied to a server on 127.0.0.1:8000.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/admin/",
  plugins: [
    vue(),
    // Element Plus components and their styles imported on demand, as they are used
    Components({
      dirs: [],
      resolvers: [ElementPlusResolver({ importStyle: "css" })],
      dts: fileURLToPath(new URL("./components.d.ts", import.meta.url)),
    }),
  ],
  resolve: {
    alias: {
      "@": fileURLToPath(new URL("./src", import.meta.url)),
      "@shared": fileURLToPath(new URL("../shared/src", import.meta.url)),
    },
  },
  build: {
    outDir,
    emptyOutDir: true,
    manifest: true,
    chunkSizeWarningLimit: 1200,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8000", "/health": "http://127.0.0.1:8000" } },
});
