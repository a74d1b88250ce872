import { fileURLToPath, URL } from "node:url";
import vue from "@vitejs/plugin-vue";
import { VantResolver } from "@vant/auto-import-resolver";
import pxToViewport from "postcss-px-to-viewport-8-plugin";
import Components from "unplugin-vue-components/vite";
import { defineConfig } from "vite";

const outDir = fileURLToPath(new URL("../../src/xindai/web/app", import.meta.url));

// The borrower app (H5), served by `xindai serve` at /app/ (api/static.py). Vant's
// components and their styles are imported on demand as they are used (the first load has
// a 200 KB budget, scripts/first-load.mjs); px are written for a 375 px design and turned
// into vw so that the app scales to the phone's width. In development (`npm run dev:app`)
// the API is proxied to a server on 127.0.0.1:8000.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/app/",
  plugins: [
    vue(),
    Components({
      dirs: [],
      resolvers: [VantResolver()],
      dts: fileURLToPath(new URL("./components.d.ts", import.meta.url)),
    }),
  ],
  css: {
    postcss: {
      plugins: [pxToViewport({ viewportWidth: 375, unitPrecision: 4, minPixelValue: 1, selectorBlackList: [".no-vw"] })],
    },
  },
  resolve: {
    alias: {
      "@app": fileURLToPath(new URL("./src", import.meta.url)),
      "@shared": fileURLToPath(new URL("../shared/src", import.meta.url)),
    },
  },
  build: {
    outDir,
    emptyOutDir: true,
    manifest: true,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8000", "/health": "http://127.0.0.1:8000" } },
});
