#!/usr/bin/env node
// `--json` against `--format json` on a large output: the same bytes (the comparison's runs) written
// by the --json flag every command has and by compare's own format, over 10,000 runs (seeded by
// bench/seed-store.mjs, 10 steps each), alternated; wall time and peak memory (the child's maximum
// RSS, from GNU time). Goal: --json costs what --format json costs. ROUNDS (default 7) sizes it.
import {execFileSync} from 'node:child_process'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = fileURLToPath(new URL('..', import.meta.url))
const bin = join(repo, 'bin/run.js')
const project = process.env.BENCH_JSON_STORE ?? '/tmp/mlx-bench-json'
const runCount = 10_000
execFileSync('node', [join(repo, 'bench/seed-store.mjs'), project, String(runCount), '10'], {
  stdio: ['ignore', 'ignore', 'inherit'],
})
const rounds = Number(process.env.ROUNDS ?? 7)
const env = {...process.env, NODE_ENV: 'production', NO_COLOR: '1'}
const cases = {
  '--json': ['compare', '--last', String(runCount), '--json'],
  '--format json': ['compare', '--last', String(runCount), '--format', 'json'],
}

/** Wall milliseconds, peak RSS in MiB and the output of one command (GNU time writes its figures to a file). */
function measure(args) {
  const figures = join(project, 'time.txt')
  const start = process.hrtime.bigint()
  const out = execFileSync('/usr/bin/time', ['-f', '%M', '-o', figures, 'node', bin, ...args], {
    cwd: project,
    env,
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 1 << 30,
  })
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  const kib = Number(execFileSync('tail', ['-n', '1', figures], {encoding: 'utf8'}).trim())
  return {ms, mib: kib / 1024, out}
}

const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]))
let outputs = {}
for (let round = 0; round < rounds; round++) {
  const names = round % 2 === 0 ? Object.keys(cases) : Object.keys(cases).reverse()
  for (const name of names) {
    const result = measure(cases[name])
    samples[name].push(result)
    outputs[name] = result.out
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const same =
  JSON.stringify(JSON.parse(outputs['--json'].toString())) ===
  JSON.stringify(JSON.parse(outputs['--format json'].toString()))
const time = (name) => median(samples[name].map((s) => s.ms))
const memory = (name) => median(samples[name].map((s) => s.mib))
const timeRatio = time('--json') / time('--format json')
const memoryRatio = memory('--json') / memory('--format json')

console.log(`## \`--json\` on a large output (bench/json-output.mjs)`)
console.log()
console.log(
  `\`mlx compare --last ${runCount}\` over a store of ${runCount.toLocaleString('en')} runs (bench/seed-store.mjs, 10 steps each): the --json flag`,
)
console.log(
  `against --format json, alternated, ${rounds} rounds, medians; memory is the process's peak RSS (GNU time).`,
)
console.log()
console.log('| output | bytes | median | peak memory |')
console.log('|---|---:|---:|---:|')
for (const name of Object.keys(cases))
  console.log(
    `| \`${name}\` | ${(outputs[name].length / 1024).toFixed(0)} KiB | ${time(name).toFixed(0)} ms | ${memory(name).toFixed(0)} MiB |`,
  )
console.log()
console.log(
  `--json over --format json: ${timeRatio.toFixed(2)}x the time, ${memoryRatio.toFixed(2)}x the memory, the same JSON: ${same ? 'yes' : '**no**'} (goal: the same cost, within 10%: ${timeRatio <= 1.1 && memoryRatio <= 1.1 && same ? 'met' : '**not met**'}).`,
)
