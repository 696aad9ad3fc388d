import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/server.setup.ts'],
    testTimeout: 15000,
    hookTimeout: 60000,
    teardownTimeout: 10000,
  },
});
