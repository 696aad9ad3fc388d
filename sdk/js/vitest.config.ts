import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Starts the chaos files first: they take longest, and the short files fill the other workers meanwhile. */
class ChaosFirst extends BaseSequencer {
  async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const chaos = (f: TestSpecification) => /chaos-[^/]*\.test\.ts$/.test(f.moduleId);
    return [...sorted.filter(chaos), ...sorted.filter((f) => !chaos(f))];
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The tests mostly wait on sockets and servers, not the CPU: run a few files at once.
    maxWorkers: 3,
    minWorkers: 1,
    sequence: { sequencer: ChaosFirst },
    globalSetup: ['test/server.setup.ts'],
    testTimeout: 15000,
    hookTimeout: 60000,
    teardownTimeout: 10000,
  },
});
