import { fileURLToPath, URL } from "node:url";
import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: {
      "@": fileURLToPath(new URL("./console/src", import.meta.url)),
      "@shared": fileURLToPath(new URL("./shared/src", import.meta.url)),
      "@app": fileURLToPath(new URL("./app/src", import.meta.url)),
    },
  },
  test: {
    environment: "happy-dom",
    include: ["console/tests/**/*.test.ts", "shared/tests/**/*.test.ts", "app/tests/**/*.test.ts"],
    server: { deps: { inline: ["element-plus", "vant"] } },
  },
});
