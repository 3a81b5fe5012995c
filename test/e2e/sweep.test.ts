/**
 * mlx sweep as a user runs it: real Optuna, real training on the CPU, real child processes. A TPE
 * sweep with ASHA pruning and two trials at a time; a sweep killed with SIGKILL and resumed; seeds
 * and folds with their statistics; a grid from -p flags; bad input refused before any trial.
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import Database from 'better-sqlite3'
import {describe, expect, it} from 'vitest'
import {cli, startCli, tempProject} from '../helpers/cli.js'

const DIGITS = `name: digits-sweep
task: image-classification
data: {source: digits, batch_size: 64}
model: {arch: cnn, channels: [8, 16]}
optim: {name: adam, lr: 0.003}
train: {epochs: 3, log_every: 10}
metrics: {primary: val/acc}
`

interface RunRow {
  id: string
  status: string
  trial: number
  trial_seed: number | null
  trial_fold: number | null
  created_at: number
  ended_at: number
}

function sweepRuns(project: string): RunRow[] {
  const db = new Database(join(project, '.mlx', 'mlx.db'), {readonly: true})
  try {
    return db.prepare('SELECT * FROM runs WHERE sweep IS NOT NULL ORDER BY trial, created_at').all() as RunRow[]
  } finally {
    db.close()
  }
}

function lastValue(project: string, runId: string, key: string): number {
  const db = new Database(join(project, '.mlx', 'mlx.db'), {readonly: true})
  try {
    return db.prepare('SELECT last FROM metric_summary WHERE run_id = ? AND key = ?').pluck().get(runId, key) as number
  } finally {
    db.close()
  }
}

/** The most runs that overlapped in time. */
function mostAtOnce(runs: readonly RunRow[]): number {
  const edges = runs.flatMap((run) => [
    [run.created_at, 1],
    [run.ended_at, -1],
  ])
  edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!)
  let now = 0
  let most = 0
  for (const [, change] of edges) most = Math.max(most, (now += change!))
  return most
}

describe('mlx sweep', () => {
  it('TPE with ASHA, two at a time: finishes, prunes some, never runs three, and beats or equals the config as written', async () => {
    const sweep = `${DIGITS}sweep:
  method: tpe
  trials: 12
  parallel: 2
  params:
    optim.lr: {loguniform: [1.0e-4, 1.0e-1]}
    model.dropout: {uniform: [0.0, 0.5]}
    data.batch_size: {choice: [32, 64, 128]}
  prune: {method: asha, min_epochs: 1, reduction: 3}
`
    const project = tempProject({'sweep.yaml': sweep, 'plain.yaml': DIGITS.replace('digits-sweep', 'digits-plain')})
    const swept = await cli(['sweep', 'sweep.yaml', '--json'], {cwd: project})
    expect(swept.stderr).toContain('trial 11')
    expect(swept.exitCode, swept.stderr).toBe(0)
    const report = JSON.parse(swept.stdout) as {
      trials: Array<{trial: number; status: string; objectives: Array<{mean: number}>; cost: Record<string, number>}>
      best: number
    }
    const runs = sweepRuns(project)
    expect(runs).toHaveLength(12)
    expect(new Set(runs.map((run) => run.trial))).toEqual(new Set(Array.from({length: 12}, (_, i) => i)))
    expect(runs.filter((run) => run.status === 'pruned').length).toBeGreaterThan(0)
    expect(runs.every((run) => ['completed', 'pruned'].includes(run.status))).toBe(true)
    expect(mostAtOnce(runs)).toBeLessThanOrEqual(2)
    expect(mostAtOnce(runs)).toBe(2)
    // Every run records what it cost.
    const best = report.trials.find((trial) => trial.trial === report.best)!
    for (const key of ['cost/params', 'cost/train_seconds', 'cost/peak_memory_bytes', 'cost/samples_per_sec'])
      expect(best.cost[key]).toBeGreaterThan(0)

    // The config as written, trained alone with the thread count a trial had.
    const plain = await cli(['run', 'plain.yaml', '--json'], {cwd: project, env: {OMP_NUM_THREADS: '1'}})
    expect(plain.exitCode, plain.stderr).toBe(0)
    const plainRun = JSON.parse(plain.stdout) as {id: string}
    expect(best.objectives[0]!.mean).toBeGreaterThanOrEqual(lastValue(project, plainRun.id, 'val/acc'))

    // Trials are ordinary runs, and the sweep is listed.
    const listed = await cli(['sweeps', '--json'], {cwd: project})
    const [summary] = JSON.parse(listed.stdout) as Array<{name: string; counts: Record<string, number>}>
    expect(summary!.name).toBe('digits-sweep')
    expect(summary!.counts.complete + summary!.counts.pruned).toBe(12)
    const shown = await cli(['show', `digits-sweep-t${report.best}`], {cwd: project})
    expect(shown.exitCode).toBe(0)
  }, 300_000)

  it('SIGKILL mid-way, then resume: the budget exactly, no trial twice, interrupted trials go on from their checkpoints', async () => {
    // Small batches: about a second an epoch, so that the trials are still training when the sweep is killed.
    const config = DIGITS.replace('batch_size: 64', 'batch_size: 8').replace(
      'train: {epochs: 3, log_every: 10}',
      'train: {epochs: 10, log_every: 50, checkpoint: {every_epochs: 1}}',
    )
    const sweep = `${config}sweep:
  method: random
  trials: 3
  parallel: 2
  params:
    optim.lr: {loguniform: [1.0e-3, 1.0e-2]}
`
    const project = tempProject({'sweep.yaml': sweep})
    const child = startCli(['sweep', 'sweep.yaml'], {cwd: project})
    // Killed once two trials have each saved a checkpoint.
    const runsDir = join(project, '.mlx', 'runs')
    const checkpointed = () =>
      existsSync(runsDir)
        ? readdirSync(runsDir).filter((id) =>
            readdirSync(join(runsDir, id, 'checkpoints')).some((f) => f.startsWith('epoch')),
          )
        : []
    for (let waited = 0; checkpointed().length < 2 && waited < 120_000; waited += 200) await sleep(200)
    expect(checkpointed().length).toBeGreaterThanOrEqual(2)
    child.kill('SIGKILL')
    await child

    const resumed = await cli(['sweep', 'resume', 'digits-sweep'], {cwd: project})
    expect(resumed.exitCode, resumed.stderr).toBe(0)
    expect(resumed.stderr).toMatch(/resumed from its checkpoint/)
    const runs = sweepRuns(project)
    const trials = runs.map((run) => run.trial)
    expect([...new Set(trials)].sort()).toEqual([0, 1, 2])
    expect(trials).toHaveLength(3) // one run each: none started again from scratch
    expect(runs.every((run) => run.status === 'completed')).toBe(true)
    // A resumed trial went on from its checkpoint's step: its metrics hold a resume event after progress.
    const resumes = runs.flatMap((run) =>
      readFileSync(join(runsDir, run.id, 'metrics.jsonl'), 'utf8')
        .split('\n')
        .filter((line) => line.includes('"event":"resume"'))
        .map((line) => JSON.parse(line) as {from_step: number}),
    )
    expect(resumes.length).toBeGreaterThanOrEqual(1)
    expect(resumes.every((event) => event.from_step > 0)).toBe(true)
    const db = new Database(join(project, '.mlx', 'mlx.db'), {readonly: true})
    expect(db.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok')
    db.close()
  }, 300_000)

  it('seeds and folds: mean ± std per configuration from the runs, and two configurations that differ only in a no-op say "not distinguishable"', async () => {
    const config = `name: wine-cv
task: tabular
data: {source: wine, batch_size: 32}
model: {hidden: [16]}
optim: {name: adam, lr: 0.01}
train: {epochs: 3, log_every: 5}
sweep:
  method: grid
  parallel: 2
  seeds: [0, 1, 2]
  folds: 3
  params:
    train.log_every: {choice: [5, 7]}
`
    const project = tempProject({'cv.yaml': config})
    const swept = await cli(['sweep', 'cv.yaml'], {cwd: project})
    expect(swept.exitCode, swept.stderr).toBe(0)
    expect(swept.stdout).toMatch(/not distinguishable: .*Welch's t-test p = 1\.000/)
    const compared = await cli(['compare', '--sweep', 'wine-cv', '--json'], {cwd: project})
    const report = JSON.parse(compared.stdout) as {
      trials: Array<{trial: number; runs: string[]; objectives: Array<{mean: number; std: number; n: number}>}>
      significance: {verdict: string; p: number}
    }
    expect(report.trials).toHaveLength(2)
    expect(report.significance.verdict).toBe('not distinguishable')
    const runs = sweepRuns(project)
    expect(runs).toHaveLength(18)
    for (const trial of report.trials) {
      const mine = runs.filter((run) => run.trial === trial.trial)
      expect(new Set(mine.map((run) => `${run.trial_seed}/${run.trial_fold}`)).size).toBe(9)
      const values = mine.map((run) => lastValue(project, run.id, 'val/acc'))
      const mean = values.reduce((a, b) => a + b, 0) / values.length
      const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1))
      expect(trial.objectives[0]!.n).toBe(9)
      expect(trial.objectives[0]!.mean).toBeCloseTo(mean, 12)
      expect(trial.objectives[0]!.std).toBeCloseTo(std, 12)
    }
    // The folds partition the data: each fold's run validated on different rows (different accuracies appear).
    const folds = runs.filter((run) => run.trial === 0 && run.trial_seed === 0)
    expect(new Set(folds.map((run) => run.trial_fold))).toEqual(new Set([0, 1, 2]))
  }, 300_000)

  it('a grid from -p flags alone runs every combination exactly once', async () => {
    const project = tempProject({'c.yaml': DIGITS.replace('epochs: 3', 'epochs: 1')})
    const swept = await cli(
      [
        'sweep',
        'c.yaml',
        '-p',
        'optim.lr=0.01,0.001',
        '-p',
        'data.batch_size=32,64,128',
        '--parallel',
        '2',
        '--name',
        'grid',
      ],
      {cwd: project},
    )
    expect(swept.exitCode, swept.stderr).toBe(0)
    const db = new Database(join(project, '.mlx', 'mlx.db'), {readonly: true})
    const combos = db
      .prepare(
        `SELECT json_extract(config_json, '$.optim.lr') AS lr, json_extract(config_json, '$.data.batch_size') AS bs FROM runs WHERE sweep = 'grid'`,
      )
      .all() as Array<{lr: number; bs: number}>
    db.close()
    expect(combos).toHaveLength(6)
    expect(new Set(combos.map((combo) => `${combo.lr}/${combo.bs}`)).size).toBe(6)
  }, 300_000)

  it('refuses bad input at FILE:LINE:COL with exit 2 before any trial starts', async () => {
    const bad = `${DIGITS}sweep:
  parallel: 1
  folds: 3
  params:
    optim.lrr: {uniform: [0.1, 0.2]}
    optim.lr: {loguniform: [0, 0.1]}
    data.batch_size: {choice: [32, -1]}
    train.epochs: {uniform: [1, 3]}
`
    const project = tempProject({
      'bad.yaml': bad,
      'dqn.yaml': 'name: d\ntask: rl-dqn\nsweep:\n  folds: 2\n  params:\n    optim.lr: {choice: [0.1]}\n',
      'gpus.yaml': `${DIGITS}sweep:\n  parallel: 64\n  gpus_per_trial: 1\n  params:\n    optim.lr: {choice: [0.1]}\n`,
    })
    const result = await cli(['sweep', 'bad.yaml'], {cwd: project})
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toMatch(
      /bad\.yaml:12:5: sweep\.params\.optim\.lrr: image-classification has no param optim\.lrr \(did you mean optim\.lr\?\)/,
    )
    expect(result.stderr).toMatch(/bad\.yaml:13:5: sweep\.params\.optim\.lr: loguniform needs bounds above 0/)
    expect(result.stderr).toMatch(/bad\.yaml:14:5: sweep\.params\.data\.batch_size: the value -1 does not fit/)
    expect(result.stderr).toMatch(
      /bad\.yaml:15:5: sweep\.params\.train\.epochs: train\.epochs takes whole numbers.*\(use \{int: \[1, 3\]\}/,
    )
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/) // no stack trace
    const dqn = await cli(['sweep', 'dqn.yaml'], {cwd: project})
    expect(dqn.exitCode).toBe(2)
    expect(dqn.stderr).toMatch(/dqn\.yaml:4:3: sweep\.folds: rl-dqn .*cannot split its data into folds/)
    const gpus = await cli(['sweep', 'gpus.yaml'], {cwd: project})
    expect(gpus.exitCode).toBe(2)
    expect(gpus.stderr).toMatch(
      /gpus\.yaml:9:3: sweep\.parallel: 64 trials at once with 1 GPU\(s\) each need 64 GPUs; torch sees \d+ here/,
    )
    expect(existsSync(join(project, '.mlx', 'runs')) ? readdirSync(join(project, '.mlx', 'runs')) : []).toEqual([])
  }, 120_000)
})
