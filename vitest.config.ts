import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    exclude: ["node_modules/**", "bench/**", "build/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration and browser suites start real servers and browsers: keep the 2-core machine unsaturated.
    maxWorkers: 2,
    globalSetup: ["tests/support/global-setup.ts"],
  },
});
