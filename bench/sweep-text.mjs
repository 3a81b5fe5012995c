#!/usr/bin/env node
// Does a sweep earn its keep? configs/sweep-text.yaml (a TPE search over the fortunes text demo,
// whose config as written reaches macro-F1 about 0.63) in a fresh project: its best configuration's
// val/f1 against trial 0 (the config as written), with what the sweep cost (trials, pruned, runs'
// training time, wall time). Goal: best >= 0.70.
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
const start = Date.now()
const out = execFileSync('node', [join(repo, 'bin/run.js'), 'sweep', 'sweep-text.yaml', '--json'], {
  cwd: project,
  env: {...process.env, NO_COLOR: '1'},
  stdio: ['ignore', 'pipe', 'inherit'],
  maxBuffer: 1 << 26,
})
const wall = (Date.now() - start) / 1000
const report = JSON.parse(out)
const best = report.trials.find((trial) => trial.trial === report.best)
const reference = report.trials.find((trial) => trial.trial === 0)
const trainSeconds = report.trials.reduce((sum, trial) => sum + (trial.cost['cost/train_seconds'] ?? 0), 0)
const fmt = (value) => (typeof value === 'number' ? Number(value.toPrecision(4)) : JSON.stringify(value))
console.log('## A sweep that earns its keep: configs/sweep-text.yaml (bench/sweep-text.mjs)')
console.log()
console.log('| | val/f1 (macro) | params |')
console.log('| --- | ---: | --- |')
console.log(
  `| trial 0: the config as written | ${fmt(reference?.objectives[0].mean)} | ${Object.entries(reference?.params ?? {})
    .map(([k, v]) => `${k}=${fmt(v)}`)
    .join(', ')} |`,
)
console.log(
  `| best: trial ${best.trial} | **${fmt(best.objectives[0].mean)}** | ${Object.entries(best.params)
    .map(([k, v]) => `${k}=${fmt(v)}`)
    .join(', ')} |`,
)
console.log()
console.log(
  `Cost: ${report.trials.length} trials (${report.counts.complete} complete, ${report.counts.pruned} pruned, ${report.counts.fail} failed), ` +
    `two at a time; ${Math.round(trainSeconds)} s of training in all, **${Math.round(wall)} s wall** for the whole sweep. ` +
    `Goal: best >= 0.70 — ${best.objectives[0].mean >= 0.7 ? 'met' : 'NOT met'}.`,
)
