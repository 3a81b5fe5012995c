#!/usr/bin/env node
// mlx sweep's own costs, as ratios measured in one run (bench/run.sh sweep):
//  1. Scheduling overhead per trial: a grid sweep of short digits trials, one at a time; for each
//     trial after the first, the time from the previous trial's end to its first logged step, minus
//     what a bare `mlx run` of the same config takes from its start to its first step.
//  2. `mlx compare --sweep` over a sweep of 200 trials (3 seeds each: 600 runs, each with its
//     objective and cost metrics), against `node -e 0`, interleaved. Goal: under 4x. The store is
//     seeded through mlx's own Store (createRun with the trial's tag, finishRun) with the metric
//     summaries ingestion would have kept; the sweep's definition as mlx sweep writes it.
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = fileURLToPath(new URL('..', import.meta.url))
const bin = join(repo, 'bin/run.js')
const env = {...process.env, NO_COLOR: '1'}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const {default: Database} = await import('better-sqlite3')

// -- 1. scheduling overhead ------------------------------------------------------------------------
const project = mkdtempSync(join(tmpdir(), 'mlx-bench-sweep-'))
writeFileSync(join(project, 'mlx.yaml'), '')
const config = `name: overhead
task: image-classification
data: {source: digits, batch_size: 256}
model: {arch: cnn, channels: [4, 8]}
train: {epochs: 1, log_every: 1}
`
writeFileSync(join(project, 'c.yaml'), config)
const trials = Number(process.env.TRIALS ?? 8)
const lrs = Array.from({length: trials}, (_, i) => (0.001 * (i + 1)).toFixed(3)).join(',')
const firstStep = (db, id) =>
  db.prepare('SELECT min(m.t) FROM metrics m JOIN runs r ON r.seq = m.run WHERE r.id = ?').pluck().get(id)
// A bare mlx run: from the command's start to its first logged step, a few times.
const bare = []
for (let i = 0; i < 5; i++) {
  const start = Date.now() / 1000
  const out = execFileSync('node', [bin, 'run', 'c.yaml', '--json'], {
    cwd: project,
    env,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  const {id} = JSON.parse(out)
  const db = new Database(join(project, '.mlx', 'mlx.db'), {readonly: true})
  bare.push(firstStep(db, id) - start)
  db.close()
}
execFileSync('node', [bin, 'sweep', 'c.yaml', '-p', `optim.lr=${lrs}`, '--parallel', '1', '--name', 'overhead-sweep'], {
  cwd: project,
  env,
  stdio: ['ignore', 'ignore', 'ignore'],
})
const db = new Database(join(project, '.mlx', 'mlx.db'), {readonly: true})
const runs = db.prepare("SELECT id, ended_at FROM runs WHERE sweep = 'overhead-sweep' ORDER BY created_at").all()
const gaps = runs.slice(1).map((run, i) => firstStep(db, run.id) - runs[i].ended_at)
db.close()
const overhead = median(gaps) - median(bare)

// -- 2. compare --sweep over 200 trials --------------------------------------------------------------
const big = mkdtempSync(join(tmpdir(), 'mlx-bench-sweep200-'))
writeFileSync(join(big, 'mlx.yaml'), '')
const {openStore} = await import(join(repo, 'dist/core/store/open.js'))
const store = await openStore(join(big, '.mlx'))
const bigTrials = 200
const seeds = [0, 1, 2]
let n = 0
const summaries = []
for (let trial = 0; trial < bigTrials; trial++) {
  const lr = 10 ** (-4 + 3 * ((trial * 0.618) % 1))
  for (const seed of seeds) {
    const id = (0xa000000000 + n++).toString(16)
    const cfg = {
      name: `big-t${trial}-s${seed}`,
      task: 'image-classification',
      seed,
      optim: {name: 'adam', lr},
      model: {dropout: 0.1},
    }
    store.createRun(
      {
        id,
        name: cfg.name,
        task: cfg.task,
        host: 'h',
        config: cfg,
        primaryMetric: 'val/acc',
        primaryGoal: 'max',
        trial: {sweep: 'big', number: trial, seed, fold: null},
      },
      1000 + n,
    )
    store.finishRun(id, {status: 'completed', endedAt: 1010 + n, exitCode: 0, signal: null, error: null})
    const acc = 0.9 - Math.abs(Math.log10(lr) + 2.5) / 20 + (seed - 1) * 0.003
    summaries.push(
      [id, 'val/acc', acc],
      [id, 'cost/train_seconds', 10 + (trial % 7)],
      [id, 'cost/params', 5178],
      [id, 'cost/peak_memory_bytes', 8e8],
      [id, 'cost/samples_per_sec', 4000],
    )
  }
}
store.close()
const seedDb = new Database(join(big, '.mlx', 'mlx.db'))
const insert = seedDb.prepare(
  'INSERT INTO metric_summary (run_id, key, count, last, last_step, min, min_step, max, max_step) VALUES (?, ?, 1, ?, 10, ?, 10, ?, 10)',
)
seedDb.transaction(() => {
  for (const [id, key, value] of summaries) insert.run(id, key, value, value, value)
})()
seedDb.close()
mkdirSync(join(big, '.mlx', 'sweeps', 'big'), {recursive: true})
const spec = {
  name: 'big',
  method: 'tpe',
  trials: bigTrials,
  parallel: 2,
  gpusPerTrial: 0,
  objectives: [{metric: 'val/acc', goal: 'max'}],
  space: {'optim.lr': {type: 'float', low: 1e-4, high: 0.1, log: true}},
  seeds,
  folds: null,
  prune: {method: 'none', minEpochs: 1, reduction: 3, maxEpochs: 10},
  samplerSeed: 0,
  threadsPerTrial: 1,
}
writeFileSync(
  join(big, '.mlx', 'sweeps', 'big', 'sweep.json'),
  JSON.stringify({version: 1, spec, createdAt: 1000, configFile: 'c.yaml', configSha256: null, sets: [], argv: []}),
)

const cases = [
  {label: '`node -e 0` (baseline)', command: ['node', '-e', '0']},
  {label: '`mlx compare --sweep big --json`', command: ['node', bin, 'compare', '--sweep', 'big', '--json'], goal: 4},
  {label: '`mlx compare --sweep big` (table)', command: ['node', bin, 'compare', '--sweep', 'big'], goal: 4},
  {label: '`mlx sweeps`', command: ['node', bin, 'sweeps']},
]
const time = ([file, ...args]) => {
  const start = process.hrtime.bigint()
  execFileSync(file, args, {cwd: big, env, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28})
  return Number(process.hrtime.bigint() - start) / 1e6
}
for (const item of cases) time(item.command)
const rounds = Number(process.env.ROUNDS ?? 9)
const samples = cases.map(() => [])
for (let round = 0; round < rounds; round++) cases.forEach((item, i) => samples[i].push(time(item.command)))
const baseline = median(samples[0])

console.log('## Sweeps: scheduling overhead and compare --sweep (bench/sweep.mjs)')
console.log()
console.log(
  `Scheduling overhead per trial: a grid sweep of ${trials} digits trials (a 1-epoch CNN), one at a time. For each trial after the`,
)
console.log(
  "first, the time from the previous trial's end to its first logged step is " +
    `${median(gaps).toFixed(2)} s (median; ${gaps.map((gap) => gap.toFixed(2)).join(', ')}); a bare \`mlx run\` of the same config`,
)
console.log(
  `takes ${median(bare).toFixed(2)} s from its start to its first step (median of ${bare.length}). **Overhead per trial: ${overhead >= 0 ? '+' : ''}${overhead.toFixed(2)} s**`,
)
console.log('(what a sweep adds to starting the run itself: asking Optuna, loading the config, recording the end).')
console.log()
console.log(
  `\`mlx compare --sweep\` over a sweep of ${bigTrials} trials x ${seeds.length} seeds (${bigTrials * seeds.length} runs), seeded through mlx's Store, median of ${rounds} rounds, interleaved with \`node -e 0\`:`,
)
console.log()
console.log('| command | median | x `node -e 0` | goal |')
console.log('| --- | ---: | ---: | ---: |')
cases.forEach((item, i) => {
  const ms = median(samples[i])
  console.log(
    `| ${item.label} | ${ms.toFixed(0)} ms | ${(ms / baseline).toFixed(2)}x | ${item.goal ? `< ${item.goal}x` : ''} |`,
  )
})
