#!/usr/bin/env node
// oclif checks the Node version against its own package.json at import, loading semver to do
// it (~25 ms of every command); npm already enforces mlx's engines field.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
// oclif, bundled with the command table (build/bundle-commands.mjs): one module to load, not a hundred.
const {execute} = await import('../dist/commands/index.js')

await execute({dir: import.meta.url})
