#!/usr/bin/env node
// Does a sweep earn its keep? configs/sweep-text.yaml (a TPE search over the fortunes text demo,
// whose config as written reaches macro-F1 about 0.63) in a fresh project: its best configuration's
// val/f1 against the config as written, and what the sweep cost (trials, pruned, runs' training
// time, wall time). Goal: best >= 0.70. The sweep selects on one split (seed 0's), so the best
// configuration and the config as written are then both trained on seeds 1 and 2 as well (each seed
// draws its own split and initialisation): a gain that holds there is not one split's luck.
import {execFileSync} from 'node:child_process'
import {copyFileSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = fileURLToPath(new URL('..', import.meta.url))
const project = mkdtempSync(join(tmpdir(), 'mlx-bench-sweep-text-'))
writeFileSync(join(project, 'mlx.yaml'), '')
for (const file of ['text-classification.yaml', 'sweep-text.yaml'])
  copyFileSync(join(repo, 'configs', file), join(project, file))
const mlx = (...args) =>
  execFileSync('node', [join(repo, 'bin/run.js'), ...args], {
    cwd: project,
    env: {...process.env, NO_COLOR: '1'},
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 26,
  }).toString()

const start = Date.now()
const report = JSON.parse(mlx('sweep', 'sweep-text.yaml', '--json'))
const wall = (Date.now() - start) / 1000
const best = report.trials.find((trial) => trial.trial === report.best)
const trainSeconds = report.trials.reduce((sum, trial) => sum + (trial.cost['cost/train_seconds'] ?? 0), 0)

// The sweep's objective is a run's best val/f1 over its evaluations; the same statistic for every row.
const bestF1 = (config, seed, overrides) => {
  const name = `${config.replace('.yaml', '')}-seed-${seed}`
  const sets = Object.entries(overrides).flatMap(([key, value]) => ['--set', `${key}=${value}`])
  mlx('run', config, '--name', name, '--set', `seed=${seed}`, ...sets)
  return JSON.parse(mlx('show', name, '--json')).primary.max
}
const seeds = [0, 1, 2]
const demo = seeds.map((seed) => bestF1('text-classification.yaml', seed, {}))
const found = seeds.map((seed) => bestF1('sweep-text.yaml', seed, best.params))

const fmt = (value) => (typeof value === 'number' ? Number(value.toPrecision(4)) : JSON.stringify(value))
const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length
console.log('## A sweep that earns its keep: configs/sweep-text.yaml (bench/sweep-text.mjs)')
console.log()
console.log(
  `Best trial ${best.trial}: ${Object.entries(best.params)
    .map(([k, v]) => `${k}=${fmt(v)}`)
    .join(', ')} (with the sweep's model.pooling idf and loss.class_weights balanced).`,
)
console.log()
console.log("| val/f1 (macro, best evaluation of the run) | seed 0 (the sweep's split) | seed 1 | seed 2 | mean |")
console.log('| --- | ---: | ---: | ---: | ---: |')
console.log(`| text-classification.yaml as written | ${demo.map(fmt).join(' | ')} | ${fmt(mean(demo))} |`)
console.log(`| the sweep's best, in the sweep (trial ${best.trial}) | **${fmt(best.objectives[0].mean)}** | | | |`)
console.log(`| the sweep's best, retrained | ${found.map(fmt).join(' | ')} | ${fmt(mean(found))} |`)
console.log()
console.log(
  `Cost: ${report.trials.length} trials (${report.counts.complete} complete, ${report.counts.pruned} pruned, ${report.counts.fail} failed), ` +
    `two at a time; ${Math.round(trainSeconds)} s of training in all, **${Math.round(wall)} s wall** for the whole sweep. ` +
    `Goal: best >= 0.70 — ${best.objectives[0].mean >= 0.7 ? 'met' : 'NOT met'}; ` +
    `the best beats the config as written on ${seeds.filter((_, i) => found[i] > demo[i]).length} of ${seeds.length} seeds.`,
)
console.log()
console.log(
  'The ranges come from an earlier, wider TPE sweep (20 trials, embed_dim 32 to 256, dropout 0 to 0.7, lr 1e-3 to 5e-2, ' +
    'weight decay 1e-3 to 0.5, 5 to 40 epochs: best 0.691, 495 s wall). Without idf pooling the same kind of search ' +
    'topped out at 0.655. A trial runs on one thread (two at a time on two cores), a run alone on two: the sums of ' +
    "seed 0's retrained run are taken in another order, hence its value next to the trial's.",
)
