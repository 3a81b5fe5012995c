#!/usr/bin/env node
// Do the analysis: section's hooks cost a run that leaves them off? The digits demo (image recipe)
// trained by three scripts in turn, rounds interleaved on one machine:
//   before:  the recipe and mlx_runtime as they were before issue 23 (commit BASE), which had none of it;
//   off:     today's, with analysis: at its defaults (histograms and embeddings off; the profiler hooks idle);
//   on:      today's, with histograms every 10 steps and the embedding map.
// Each run's training time is its cost/train_seconds (the loop's wall time, evaluation included, start-up
// excluded); the figure is the median over the rounds, and the ratio to "before".
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const BASE = '434b7b9' // main before issue 23: no export, profile, card or diagnostics hooks in the loop
const ROUNDS = Number(process.env.ROUNDS ?? 7)
const EPOCHS = 30
const repo = fileURLToPath(new URL('..', import.meta.url))
const python = join(repo, '.venv', 'bin', 'python')
const work = mkdtempSync(join(tmpdir(), 'mlx-bench-diagnostics-'))

// The old recipe and runtime, as they were.
const old = join(work, 'before')
mkdirSync(old)
execFileSync('sh', [
  '-c',
  `git -C "${repo}" archive ${BASE} python/mlx_runtime templates/image-classification | tar -x -C "${old}"`,
])

// The resolved config of the demo, from today's mlx (the old script ignores the sections it does not know).
const project = join(work, 'project')
mkdirSync(project)
writeFileSync(join(project, 'mlx.yaml'), '')
const resolved = JSON.parse(
  execFileSync(
    'node',
    [
      join(repo, 'bin/run.js'),
      'validate',
      join(repo, 'configs/image-classification.yaml'),
      '--set',
      `train.epochs=${EPOCHS}`,
      '--json',
    ],
    {
      cwd: project,
    },
  ).toString(),
)
const config = resolved.valid[0].config
const variants = {
  before: {script: join(old, 'templates/image-classification/train.py'), runtime: join(old, 'python'), config},
  off: {script: join(repo, 'templates/image-classification/train.py'), runtime: join(repo, 'python'), config},
  on: {
    script: join(repo, 'templates/image-classification/train.py'),
    runtime: join(repo, 'python'),
    config: {...config, analysis: {...config.analysis, histograms_every: 10, embeddings: true}},
  },
}

const seconds = Object.fromEntries(Object.keys(variants).map((name) => [name, []]))
for (let round = 0; round < ROUNDS; round++) {
  // Each round in another order: no variant always runs first, or right after another.
  const names = Object.keys(variants)
  const order = names.map((_, at) => names[(at + round) % names.length])
  for (const name of order) {
    const variant = variants[name]
    const runDir = join(work, `${name}-${round}`)
    mkdirSync(runDir)
    writeFileSync(join(runDir, 'config.json'), JSON.stringify(variant.config))
    execFileSync(python, [variant.script, '--config', join(runDir, 'config.json')], {
      cwd: runDir,
      env: {
        ...process.env,
        PYTHONPATH: variant.runtime,
        MLX_RUN_DIR: runDir,
        MLX_METRICS_FILE: join(runDir, 'metrics.jsonl'),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    const cost = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .find((record) => record.kind === 'metrics' && 'cost/train_seconds' in record.values)
    seconds[name].push(cost.values['cost/train_seconds'])
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
// On a shared machine a neighbour's load only ever adds time: the fastest round of each is the least disturbed
// figure (as timeit advises), and judges; the median and every round are shown beside it.
const fastest = (values) => Math.min(...values)
const base = fastest(seconds.before)
console.log('## Training diagnostics off cost nothing (bench/diagnostics.mjs)')
console.log()
console.log(
  `The digits demo (image recipe, ${EPOCHS} epochs, ${config.data.batch_size} a batch, TensorBoard on as by default) trained by three scripts in turn, ${ROUNDS} rounds interleaved, each in another order; training time is each run's cost/train_seconds (the loop's wall time with its evaluations).`,
)
console.log()
console.log('| script | fastest round | x before | median | every round (s) |')
console.log('| --- | ---: | ---: | ---: | --- |')
const labels = {
  before: `before issue 23 (${BASE}): no diagnostics, profiler or export hooks`,
  off: 'today, analysis: off (the default)',
  on: 'today, histograms every 10 steps + embedding map',
}
for (const name of Object.keys(variants))
  console.log(
    `| ${labels[name]} | ${fastest(seconds[name]).toFixed(2)} s | ${(fastest(seconds[name]) / base).toFixed(3)}x | ${median(seconds[name]).toFixed(2)} s | ${seconds[name].map((s) => s.toFixed(2)).join(', ')} |`,
  )

// What the hooks cost a step when off, without the machine's noise: the calls one optimiser step makes into
// the idle profiler and the gradient watch, timed by timeit over many steps.
const hookMicroseconds = Number(
  execFileSync(
    python,
    [
      '-c',
      `import timeit, torch
from mlx_runtime.diagnostics import ANALYSIS_OFF, GradientWatch
from mlx_runtime.profiling import NoProfiler
profiler, watch = NoProfiler(), GradientWatch(torch.nn.Linear(2, 2), ANALYSIS_OFF, None, enabled=True)
def step():
    for phase in ("data", "forward", "backward", "optimizer"):
        profiler.phase(phase)
    watch.after_backward(7)
    profiler.step()
print(min(timeit.repeat(step, number=100000, repeat=5)) / 100000 * 1e6)`,
    ],
    {env: {...process.env, PYTHONPATH: join(repo, 'python')}},
  ).toString(),
)
const stepMilliseconds = (seconds.before.reduce((a, b) => a + b, 0) / seconds.before.length / (EPOCHS * 23)) * 1000
const spread = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return (sorted[Math.floor(sorted.length * 0.75)] - sorted[Math.floor(sorted.length * 0.25)]) / median(values)
}
const byMedian = median(seconds.off) / median(seconds.before)
const byFastest = fastest(seconds.off) / base
console.log()
console.log(
  `Off against before: ${byFastest.toFixed(3)}x by the fastest round, ${byMedian.toFixed(3)}x by the median; the rounds of "before" alone spread ${(spread(seconds.before) * 100).toFixed(0)}% (interquartile range over median). The hooks themselves, timed without that noise (timeit, 5 x 100,000 steps): ${hookMicroseconds.toFixed(2)} µs a step, ${((hookMicroseconds / 1000 / stepMilliseconds) * 100).toFixed(3)}% of a step of this model (${stepMilliseconds.toFixed(2)} ms with its evaluations).`,
)
console.log()
console.log(
  `Goal: off no slower than before: ${Math.max(byFastest, byMedian) <= 1 + spread(seconds.before) ? 'met' : 'NOT met'} (both ratios within the rounds' own spread; the hooks cost ${((hookMicroseconds / 1000 / stepMilliseconds) * 100).toFixed(3)}% of a step).`,
)
