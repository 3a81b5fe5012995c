import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end tests train with PyTorch on two cores: running them side by side only slows each.
    fileParallelism: false,
    reporters: ['default'],
  },
})
