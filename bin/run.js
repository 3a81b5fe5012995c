#!/usr/bin/env node
// oclif checks the Node version against its own package.json at import, loading semver to do
// it (~25 ms of every command); npm already enforces mlx's engines field.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
const {execute} = await import('@oclif/core')

await execute({dir: import.meta.url})
