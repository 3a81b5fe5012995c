#!/usr/bin/env node
// `mlx validate` on 100 configs against 1 config, interleaved in one run (this machine is
// shared and noisy: only ratios measured side by side mean anything). Goal: under 2x.
// Prints a Markdown table; `make bench` writes it into docs/benchmarks.md.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = fileURLToPath(new URL('..', import.meta.url))
const bin = join(repo, 'bin/run.js')
const dir = mkdtempSync(join(tmpdir(), 'mlx-bench-'))
writeFileSync(
  join(dir, 'base.yaml'),
  'task: image-classification\nmodel: {channels: [16, 32]}\ntrain: {epochs: 5, early_stopping: {patience: 3}}\n',
)
const files = []
for (let i = 0; i < 100; i++) {
  const file = join(dir, `exp${i}.yaml`)
  writeFileSync(
    file,
    `extends: base.yaml\nname: exp-${i}\nseed: ${i}\noptim: {name: sgd, lr: ${(0.001 * (i + 1)).toFixed(3)}}\nscheduler: {name: step, step_size: ${1 + (i % 5)}}\n`,
  )
  files.push(file)
}
const env = {...process.env, NODE_ENV: 'production'}
const time = (args) => {
  const start = process.hrtime.bigint()
  execFileSync('node', [bin, 'validate', ...args], {env, stdio: 'ignore'})
  return Number(process.hrtime.bigint() - start) / 1e6
}
const nodeStart = () => {
  const start = process.hrtime.bigint()
  execFileSync('node', ['-e', '0'], {stdio: 'ignore'})
  return Number(process.hrtime.bigint() - start) / 1e6
}
const rounds = Number(process.env.ROUNDS ?? 15)
const samples = {node: [], one: [], hundred: []}
time([files[0]]) // warm the file cache
for (let round = 0; round < rounds; round++) {
  samples.node.push(nodeStart())
  samples.one.push(time([files[0]]))
  samples.hundred.push(time(files))
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const [node, one, hundred] = [median(samples.node), median(samples.one), median(samples.hundred)]
console.log(`### mlx validate: 100 configs against 1 (${rounds} interleaved rounds, medians)

| command | median | ratio |
| --- | ---: | ---: |
| \`node -e 0\` | ${node.toFixed(0)} ms | ${(node / one).toFixed(2)}x of one config |
| \`mlx validate\` 1 config | ${one.toFixed(0)} ms | 1.00x |
| \`mlx validate\` 100 configs (each extends a base) | ${hundred.toFixed(0)} ms | ${(hundred / one).toFixed(2)}x of one config (goal: < 2x) |
`)
