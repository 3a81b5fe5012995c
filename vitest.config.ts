import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Generous: an end-to-end test trains up to three short runs, and a shared two-core
    // machine under load (CI beside other work) can take several times as long as a quiet one.
    testTimeout: 240_000,
    hookTimeout: 120_000,
    // End-to-end tests train with PyTorch on two cores: running them side by side only slows each.
    fileParallelism: false,
    reporters: ['default'],
  },
})
