#!/usr/bin/env node
// `mlx compare` and `mlx runs` over a store of 10,000 runs (20 params, 10 metrics, 1,000
// steps each: 10^8 metric rows), end to end, as ratios to `node -e 0` measured interleaved in
// the same run. Goals: --format json under 4x node -e 0, the table under 8x (printed without ink since
// tables drawn once no longer load it; ink draws only the live and scrolled views).
// The store is seeded once by bench/seed-store.mjs into $BENCH_STORE (default
// /tmp/mlx-bench-10k; about 6 GB) and kept for later runs. Prints a Markdown table.
import {execFileSync} from 'node:child_process'
import {statSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = fileURLToPath(new URL('..', import.meta.url))
const bin = join(repo, 'bin/run.js')
const project = process.env.BENCH_STORE ?? '/tmp/mlx-bench-10k'
const runCount = Number(process.env.BENCH_RUNS ?? 10000)
execFileSync('node', [join(repo, 'bench/seed-store.mjs'), project, String(runCount), '1000'], {
  stdio: ['ignore', 'ignore', 'inherit'],
})

const env = {...process.env, NO_COLOR: '1'}
const WHERE = 'optim.lr < 0.005 and status = completed and val/acc >= 0.9'
const cases = [
  {label: '`node -e 0` (baseline)', command: ['node', '-e', '0']},
  {label: '`mlx compare --last 50 --format json`', args: ['compare', '--last', '50', '--format', 'json'], goal: 4},
  {label: '`mlx compare --last 50` (table)', args: ['compare', '--last', '50'], goal: 8},
  {
    label: `\`mlx compare --where '${WHERE}' --format json\` (over all ${runCount} runs; the latest 50 that match)`,
    args: ['compare', '--where', WHERE, '--format', 'json'],
    goal: 4,
  },
  {label: `\`mlx compare --where '${WHERE}'\` (table)`, args: ['compare', '--where', WHERE], goal: 8},
  {
    label: `\`mlx compare --where '${WHERE}' --last ${runCount} --format json\` (every match)`,
    args: ['compare', '--where', WHERE, '--last', String(runCount), '--format', 'json'],
  },
  {label: '`mlx compare --last 50` (table in a 200x50 terminal)', terminal: ['compare', '--last', '50'], goal: 8},
  {
    label: `\`mlx compare --where '${WHERE}'\` (table in a 200x50 terminal)`,
    terminal: ['compare', '--where', `"${WHERE}"`],
    goal: 8,
  },
  {label: '`mlx runs --json` (latest 50)', args: ['runs', '--json'], goal: 4},
  {label: '`mlx runs` (table, latest 50)', args: ['runs'], goal: 8},
  {label: `\`mlx runs --limit ${runCount} --json\` (every run)`, args: ['runs', '--limit', String(runCount), '--json']},
]
const outputs = new Map()
const time = (item) => {
  // A terminal: a pseudo-terminal from script(1), sized with stty; stdin from /dev/null keeps the table static (no browsing).
  const inTerminal = item.terminal && [
    'script',
    '-qec',
    `stty cols 200 rows 50; node ${bin} ${item.terminal.map((a) => (a.startsWith('"') ? a : `'${a}'`)).join(' ')} < /dev/null`,
    '/dev/null',
  ]
  const [file, ...args] = item.command ?? inTerminal ?? ['node', bin, ...item.args]
  const start = process.hrtime.bigint()
  const out = execFileSync(file, args, {cwd: project, env, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 30})
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  outputs.set(item.label, out.length)
  return ms
}
for (const item of cases) time(item) // warm the file cache
const rounds = Number(process.env.ROUNDS ?? 9)
const samples = cases.map(() => [])
for (let round = 0; round < rounds; round++) cases.forEach((item, i) => samples[i].push(time(item)))
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const baseline = median(samples[0])
const dbBytes = statSync(join(project, '.mlx', 'mlx.db')).size

console.log(`## compare and runs over ${runCount.toLocaleString('en')} runs (bench/compare-10k.mjs)`)
console.log()
console.log(
  `A store of ${runCount.toLocaleString('en')} runs, 20 params and 10 metrics each, every metric logged at 1,000 steps`,
)
console.log(
  `(${(runCount * 10 * 1000).toLocaleString('en')} metric rows, ${(dbBytes / 2 ** 30).toFixed(1)} GiB), seeded by bench/seed-store.mjs. Wall time of`,
)
console.log(
  `the whole command, output to a pipe (or to a pseudo-terminal of 200x50 made by script(1), which adds its own`,
)
console.log(`start-up to those rows), median of ${rounds} interleaved rounds; goal as a ratio to \`node -e 0\`.`)
console.log()
console.log('| command | output | median | ratio to node -e 0 | goal | met |')
console.log('|---|---:|---:|---:|---:|:---:|')
cases.forEach((item, i) => {
  const ms = median(samples[i])
  const ratio = ms / baseline
  const size = outputs.get(item.label)
  const shown = size >= 1024 ? `${(size / 1024).toFixed(0)} KiB` : `${size} B`
  console.log(
    `| ${item.label} | ${shown} | ${ms.toFixed(0)} ms | ${ratio.toFixed(2)}x | ${item.goal ? `< ${item.goal}x` : ''} | ${item.goal ? (ratio < item.goal ? 'yes' : '**no**') : ''} |`,
  )
})
