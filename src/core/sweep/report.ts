/**
 * What a sweep found, read from the store alone: its trials grouped by configuration, each with
 * the objective's mean ± std over its seeds and folds, what it cost (time, size, memory), its rank,
 * the best (or, with several objectives, the Pareto front), and whether the best beats the
 * runner-up beyond seed noise (Welch's t-test). `mlx compare --sweep`, `mlx sweep show` and
 * `mlx sweeps` print it; nothing here loads zod or Python.
 */
import {flattenParams} from '../config/params.js'
import type {RunRecord, Store} from '../store/store.js'
import {alignedLines} from '../report/format.js'
import {formatBytes} from '../report/numbers.js'
import {readDefinition} from './paths.js'
import {mean, std, welchTTest} from './stats.js'

/** The cost/* metrics every recipe's run logs at its end (mlx_runtime.loop), in the order they are shown. */
export const COST_METRICS = [
  'cost/train_seconds',
  'cost/step_seconds',
  'cost/samples_per_sec',
  'cost/params',
  'cost/model_bytes',
  'cost/peak_memory_bytes',
] as const

/** Below this p-value the best is said to beat the runner-up. */
export const SIGNIFICANCE_LEVEL = 0.05

export type TrialStatus = 'complete' | 'pruned' | 'fail' | 'running'

export interface ObjectiveSummary {
  metric: string
  goal: 'min' | 'max'
  mean: number | null
  std: number | null
  n: number
  values: number[]
}

export interface TrialRow {
  trial: number
  params: Record<string, unknown>
  status: TrialStatus
  runs: string[]
  objectives: ObjectiveSummary[]
  /** Each cost/* metric's mean over the trial's runs that logged it. */
  cost: Record<string, number | null>
  rank: number | null
  best: boolean
  pareto: boolean
  started: number
  ended: number | null
}

export interface Significance {
  test: 'welch'
  best: number
  runnerUp: number
  p: number | null
  n: [number, number]
  verdict: 'better' | 'not distinguishable' | 'too few runs'
  text: string
}

export interface SweepComparison {
  name: string
  method: string
  objectives: Array<{metric: string; goal: 'min' | 'max'}>
  budget: number
  trials: TrialRow[]
  best: number | null
  significance: Significance | null
  counts: Record<TrialStatus, number>
  started: number | null
  ended: number | null
}

export function compareSweep(store: Store, name: string): SweepComparison {
  const {spec} = readDefinition(store, name)
  const runs = store.sweepRuns(name)
  const keys = [...new Set([...spec.objectives.map((objective) => objective.metric), ...COST_METRICS])]
  const summaries = store.summaries(
    runs.map((run) => run.id),
    keys,
  )
  const lastOf = (run: RunRecord, key: string) =>
    summaries.get(run.id)?.find((summary) => summary.key === key)?.last ?? null
  const byTrial = new Map<number, RunRecord[]>()
  for (const run of runs) byTrial.set(run.trial!.number, [...(byTrial.get(run.trial!.number) ?? []), run])

  const rows: TrialRow[] = [...byTrial.entries()].map(([trial, trialRuns]) => {
    const flat = flattenParams(trialRuns[0]!.config)
    const completed = trialRuns.filter((run) => run.status === 'completed')
    const status: TrialStatus = trialRuns.some((run) => run.status === 'pruned')
      ? 'pruned'
      : trialRuns.some((run) => run.status === 'failed' || run.status === 'diverged')
        ? 'fail'
        : trialRuns.some((run) => run.status === 'running' || run.status === 'interrupted')
          ? 'running'
          : 'complete'
    const objectives = spec.objectives.map(({metric, goal}) => {
      const values = completed.map((run) => lastOf(run, metric)).filter((v): v is number => v !== null)
      return {
        metric,
        goal,
        mean: values.length > 0 ? mean(values) : null,
        std: values.length > 0 ? std(values) : null,
        n: values.length,
        values,
      }
    })
    const cost = Object.fromEntries(
      COST_METRICS.map((key) => {
        const values = trialRuns.map((run) => lastOf(run, key)).filter((v): v is number => v !== null)
        return [key, values.length > 0 ? mean(values) : null]
      }),
    )
    const ends = trialRuns.map((run) => run.endedAt)
    return {
      trial,
      params: Object.fromEntries(Object.keys(spec.space).map((path) => [path, flat[path]])),
      status,
      runs: trialRuns.map((run) => run.id),
      objectives,
      cost,
      rank: null,
      best: false,
      pareto: false,
      started: Math.min(...trialRuns.map((run) => run.createdAt)),
      ended: ends.some((end) => end === null) ? null : Math.max(...(ends as number[])),
    }
  })

  // Ranked: complete trials by the first objective (better first); with several objectives, the front first.
  const scored = rows.filter((row) => row.status === 'complete' && row.objectives.every((o) => o.mean !== null))
  const sign = (goal: 'min' | 'max') => (goal === 'max' ? -1 : 1)
  const key = (row: TrialRow, i: number) => sign(row.objectives[i]!.goal) * row.objectives[i]!.mean!
  if (spec.objectives.length > 1)
    for (const row of scored)
      row.pareto = !scored.some(
        (other) =>
          other !== row &&
          other.objectives.every((_, i) => key(other, i) <= key(row, i)) &&
          other.objectives.some((_, i) => key(other, i) < key(row, i)),
      )
  scored.sort((a, b) => Number(b.pareto) - Number(a.pareto) || key(a, 0) - key(b, 0) || a.trial - b.trial)
  scored.forEach((row, index) => (row.rank = index + 1))
  const single = spec.objectives.length === 1
  const [best, runnerUp] = scored
  if (best && single) best.best = true
  rows.sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.trial - b.trial)

  const counts: Record<TrialStatus, number> = {complete: 0, pruned: 0, fail: 0, running: 0}
  for (const row of rows) counts[row.status]++
  const ends = runs.map((run) => run.endedAt)
  return {
    name,
    method: spec.method,
    objectives: spec.objectives,
    budget: spec.trials,
    trials: rows,
    best: best && single ? best.trial : null,
    significance: single && best && runnerUp ? significance(best, runnerUp) : null,
    counts,
    started: runs.length > 0 ? Math.min(...runs.map((run) => run.createdAt)) : null,
    ended: runs.length === 0 || ends.some((end) => end === null) ? null : Math.max(...(ends as number[])),
  }
}

/** Whether the best beats the runner-up beyond the spread of their seeds and folds. */
export function significance(best: TrialRow, runnerUp: TrialRow): Significance {
  const [a, b] = [best.objectives[0]!, runnerUp.objectives[0]!]
  const describe = (o: ObjectiveSummary) => `${formatValue(o.mean)} ± ${formatValue(o.std)} (n=${o.n})`
  const both = `trial ${best.trial} ${describe(a)} vs trial ${runnerUp.trial} ${describe(b)} on ${a.metric}`
  const test = welchTTest(a.values, b.values)
  const base = {test: 'welch' as const, best: best.trial, runnerUp: runnerUp.trial, n: [a.n, b.n] as [number, number]}
  if (!test)
    return {
      ...base,
      p: null,
      verdict: 'too few runs',
      text: `cannot tell the best from the runner-up beyond noise: ${both}; Welch's t-test needs 2 runs of each (sweep.seeds or sweep.folds)`,
    }
  const p = test.p
  const better = p < SIGNIFICANCE_LEVEL
  return {
    ...base,
    p,
    verdict: better ? 'better' : 'not distinguishable',
    text: better
      ? `trial ${best.trial} beats trial ${runnerUp.trial} beyond noise: ${both}; Welch's t-test p = ${formatP(p)}`
      : `not distinguishable: ${both}; Welch's t-test p = ${formatP(p)} (>= ${SIGNIFICANCE_LEVEL})`,
  }
}

export function formatP(p: number): string {
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3)
}

export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-'
  if (value === 0) return '0'
  const magnitude = Math.abs(value)
  if (magnitude >= 1e6 || magnitude < 1e-3) return value.toExponential(2)
  return Number(value.toPrecision(4)).toString()
}

const COST_HEADERS: Record<(typeof COST_METRICS)[number], string> = {
  'cost/train_seconds': 'train s',
  'cost/step_seconds': 's/step',
  'cost/samples_per_sec': 'samples/s',
  'cost/params': 'params',
  'cost/model_bytes': 'size',
  'cost/peak_memory_bytes': 'peak mem',
}

/** The comparison as a text table, the significance line under it, each line within `width` where it can be. */
export function sweepTable(comparison: SweepComparison, width = 120): string[] {
  const paramKeys = Object.keys(comparison.trials[0]?.params ?? {})
  const shortName = (path: string) => {
    const last = path.split('.').at(-1)!
    return paramKeys.filter((key) => key.split('.').at(-1) === last).length > 1 ? path : last
  }
  const shownCost: Array<(typeof COST_METRICS)[number]> = [
    'cost/train_seconds',
    'cost/params',
    'cost/peak_memory_bytes',
    'cost/samples_per_sec',
  ]
  const headers = [
    'rank',
    'trial',
    ...paramKeys.map(shortName),
    ...comparison.objectives.map((o) => `${o.metric} (${o.goal})`),
    'n',
    ...shownCost.map((key) => COST_HEADERS[key]),
    'status',
  ]
  const rows = comparison.trials.map((row) => [
    row.rank === null ? '-' : `${row.rank}${row.best ? ' *' : row.pareto ? ' P' : ''}`,
    String(row.trial),
    ...paramKeys.map((key) => formatParam(row.params[key])),
    ...row.objectives.map((o) =>
      o.mean === null ? '-' : o.n > 1 ? `${formatValue(o.mean)} ± ${formatValue(o.std)}` : formatValue(o.mean),
    ),
    String(Math.max(0, ...row.objectives.map((o) => o.n))),
    ...shownCost.map((key) =>
      key === 'cost/peak_memory_bytes' && row.cost[key] != null
        ? formatBytes(Math.round(row.cost[key]))
        : formatValue(row.cost[key]),
    ),
    row.status,
  ])
  const lines = alignedLines([headers, ...rows], (i) => i >= 2 && i < headers.length - 1).map((line) =>
    line.slice(0, Math.max(width, 40)),
  )
  const {counts} = comparison
  lines.push(
    '',
    `sweep ${comparison.name} (${comparison.method}): ${comparison.trials.length}/${comparison.budget} trials; ${counts.complete} complete, ${counts.pruned} pruned, ${counts.fail} failed, ${counts.running} running or stopped`,
  )
  if (comparison.objectives.length > 1)
    lines.push('P: on the Pareto front (no other trial is better on every objective)')
  else if (comparison.best !== null) lines.push(`* best: trial ${comparison.best}`)
  if (comparison.significance) lines.push(comparison.significance.text)
  return lines
}

function formatParam(value: unknown): string {
  return typeof value === 'number' ? formatValue(value) : (JSON.stringify(value) ?? '-')
}

/** `mlx sweeps`: one line per sweep of the store. */
export interface SweepListing {
  name: string
  method: string
  budget: number
  counts: Record<TrialStatus, number>
  best: {trial: number; metric: string; value: number | null} | null
  started: number | null
  durationSeconds: number | null
}

export function listSweeps(store: Store): SweepListing[] {
  return store.sweepNames().flatMap((name) => {
    let comparison: SweepComparison
    try {
      comparison = compareSweep(store, name)
    } catch {
      return [] // runs whose sweep's definition was removed by hand
    }
    const best = comparison.trials.find((row) => row.trial === comparison.best)
    return [
      {
        name,
        method: comparison.method,
        budget: comparison.budget,
        counts: comparison.counts,
        best: best ? {trial: best.trial, metric: best.objectives[0]!.metric, value: best.objectives[0]!.mean} : null,
        started: comparison.started,
        durationSeconds:
          comparison.started === null ? null : (comparison.ended ?? Date.now() / 1000) - comparison.started,
      },
    ]
  })
}
