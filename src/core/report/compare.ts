/**
 * The comparison of runs behind `mlx compare`: flat params, the params that differ, metric
 * aggregates (last, best, min, max) and which run is best in each metric column
 * (direction-aware). Which runs are compared: select.ts; one run's record: run-report.ts.
 */
import {RECIPES} from '../recipes/registry.js'
import {metricGoal, type Goal} from '../metrics/goal.js'
import type {MetricSummary, RunBrief, RunRecord, RunStatus} from '../store/store.js'
import type {Task} from '../config/schema.js'
import {flattenParams} from '../config/params.js'

export {TIE_RULE} from './tie-rule.js'

export {flattenParams}

export interface MetricCell {
  last: number | null
  best: number | null
  min: number | null
  max: number | null
  /** Step of the best value. */
  bestStep: number | null
  count: number
}

export interface ComparedRun {
  id: string
  name: string
  task: string
  status: RunStatus
  startedAt: string
  durationSeconds: number | null
  /** The metric the run's config (or recipe) names as the one to select on. */
  primaryMetric: string
  params: Record<string, unknown>
  metrics: Record<string, MetricCell>
}

export interface MetricColumn {
  key: string
  goal: Goal | null
  /** Ids of the runs holding the best value of this metric (ties included). */
  bestRunIds: string[]
}

/** The run best on the judged metric, and how a tie on it was broken. */
export interface Winner {
  key: string
  goal: Goal
  id: string
  name: string
  best: number
  bestStep: number | null
  /** How many other runs had the same best value. */
  tiedWith: number
  /** What decided among them: the rule of TIE_RULE that did, or null with no tie. */
  brokenBy: 'last value' | 'steps to the best' | 'start time' | null
}

export interface Comparison {
  runs: ComparedRun[]
  /** The param columns: by default those whose values differ among the runs (none when there is one run). */
  differingParams: string[]
  metrics: MetricColumn[]
  /** The metric the winner is judged on: the first metric asked for (--metric) with a direction, else the runs' primary metric when they all share it. */
  judged: string | null
  /** Null with fewer than two runs holding a value of the judged metric. */
  winner: Winner | null
}

export function durationOf(
  run: Pick<RunBrief, 'status' | 'createdAt' | 'endedAt'>,
  now = Date.now() / 1000,
): number | null {
  return run.status === 'running' ? now - run.createdAt : run.endedAt === null ? null : run.endedAt - run.createdAt
}

export function cellOf(summary: MetricSummary, goal: Goal | undefined): MetricCell {
  const best = goal === 'min' ? summary.min : goal === 'max' ? summary.max : null
  const bestStep = goal === 'min' ? summary.minStep : goal === 'max' ? summary.maxStep : null
  return {last: summary.last, best, min: summary.min, max: summary.max, bestStep, count: summary.count}
}

/** The default metric columns: the key metrics of the runs' recipes that any run has, then the primary metrics. */
/** The forms mlx export times, in the order their latency columns come. */
export const LATENCY_FORMS = ['eager', 'onnx', 'torchscript', 'export'] as const

export function defaultMetricKeys(runs: readonly RunRecord[], summaries: Map<string, MetricSummary[]>): string[] {
  const present = new Set([...summaries.values()].flat().map((s) => s.key))
  const wanted = new Set<string>()
  for (const run of runs) wanted.add(run.primaryMetric)
  for (const run of runs) for (const key of RECIPES[run.task as Task]?.keyMetrics ?? []) wanted.add(key)
  // What serving costs, where mlx export measured it: latency at batch 1 per form.
  for (const form of LATENCY_FORMS) wanted.add(`cost/latency_ms_b1/${form}`)
  return [...wanted].filter((key) => present.has(key))
}

/** Which params become columns: those that differ (the default), all of them, or the ones named. */
export type ParamColumns = 'differing' | 'all' | readonly string[]

export function compareRuns(
  runs: readonly RunRecord[],
  summaries: Map<string, MetricSummary[]>,
  metricKeys?: readonly string[],
  paramColumns: ParamColumns = 'differing',
): Comparison {
  const keys = metricKeys && metricKeys.length > 0 ? [...metricKeys] : defaultMetricKeys(runs, summaries)
  const configuredGoals = Object.fromEntries(runs.map((run) => [run.primaryMetric, run.primaryGoal]))
  const goals = new Map(keys.map((key) => [key, metricGoal(key, configuredGoals)]))

  const compared: ComparedRun[] = runs.map((run) => {
    const byKey = new Map((summaries.get(run.id) ?? []).map((s) => [s.key, s]))
    // Metric names are whatever a script logged: fromEntries keeps even `__proto__` an own key.
    const metrics: Record<string, MetricCell> = Object.fromEntries(
      keys.flatMap((key) => {
        const summary = byKey.get(key)
        return summary ? [[key, cellOf(summary, goals.get(key))]] : []
      }),
    )
    return {
      id: run.id,
      name: run.name,
      task: run.task,
      status: run.status,
      startedAt: new Date(run.createdAt * 1000).toISOString(),
      durationSeconds: durationOf(run),
      primaryMetric: run.primaryMetric,
      params: flattenParams(run.config),
      metrics,
    }
  })

  const allParams = [...new Set(compared.flatMap((run) => Object.keys(run.params)))].sort()
  const differingParams =
    paramColumns === 'all'
      ? allParams
      : paramColumns === 'differing'
        ? allParams.filter((key) => new Set(compared.map((run) => JSON.stringify(run.params[key] ?? null))).size > 1)
        : [...paramColumns]

  const metrics: MetricColumn[] = keys.map((key) => {
    const goal = goals.get(key) ?? null
    const values = compared.map((run) => ({id: run.id, value: run.metrics[key]?.best ?? null}))
    const finite = values.filter((v): v is {id: string; value: number} => v.value !== null && Number.isFinite(v.value))
    if (!goal || finite.length === 0) return {key, goal, bestRunIds: []}
    const target = goal === 'min' ? Math.min(...finite.map((v) => v.value)) : Math.max(...finite.map((v) => v.value))
    return {key, goal, bestRunIds: finite.filter((v) => v.value === target).map((v) => v.id)}
  })

  const judged = judgedMetric(runs, metrics, Boolean(metricKeys && metricKeys.length > 0))
  const judgedColumn = metrics.find((metric) => metric.key === judged)
  return {
    runs: compared,
    differingParams,
    metrics,
    judged,
    winner: judgedColumn ? winnerOf(compared, judgedColumn) : null,
  }
}

function judgedMetric(runs: readonly RunRecord[], metrics: readonly MetricColumn[], asked: boolean): string | null {
  const withGoal = metrics.filter((metric) => metric.goal)
  if (asked) return withGoal[0]?.key ?? null
  const primaries = new Set(runs.map((run) => run.primaryMetric))
  const [shared] = primaries
  return primaries.size === 1 && withGoal.some((metric) => metric.key === shared) ? shared! : null
}

/** The best run on `column`, ties broken by TIE_RULE; null unless two or more runs hold a value. */
function winnerOf(runs: readonly ComparedRun[], column: MetricColumn): Winner | null {
  const goal = column.goal!
  const better = (x: number, y: number) => (goal === 'max' ? y - x : x - y)
  const holders = runs.filter((run) => Number.isFinite(run.metrics[column.key]?.best ?? NaN))
  if (holders.length < 2) return null
  const cell = (run: ComparedRun) => run.metrics[column.key]!
  const top = holders.map((run) => cell(run).best!).reduce((a, b) => (better(a, b) <= 0 ? a : b))
  const tied = holders.filter((run) => cell(run).best === top)
  const rules: Array<[Winner['brokenBy'], (a: ComparedRun, b: ComparedRun) => number]> = [
    ['last value', (a, b) => better(cell(a).last ?? NaN, cell(b).last ?? NaN) || 0],
    ['steps to the best', (a, b) => (cell(a).bestStep ?? Infinity) - (cell(b).bestStep ?? Infinity) || 0],
    ['start time', (a, b) => a.startedAt.localeCompare(b.startedAt)],
  ]
  let candidates = tied
  let brokenBy: Winner['brokenBy'] = null
  for (const [rule, order] of rules) {
    if (candidates.length < 2) break
    const first = [...candidates].sort(order)[0]!
    const still = candidates.filter((run) => order(run, first) === 0)
    if (still.length < candidates.length) brokenBy = rule
    candidates = still
  }
  const winner = candidates[0]!
  return {
    key: column.key,
    goal,
    id: winner.id,
    name: winner.name,
    best: cell(winner).best!,
    bestStep: cell(winner).bestStep,
    tiedWith: tied.length - 1,
    brokenBy,
  }
}

/**
 * How many leading characters tell each of `shown` apart from every id in `all` (at least
 * `minimum`): the id column shows that much, and what it shows works as a RUN argument.
 */
export function uniquePrefixLength(shown: readonly string[], all: readonly string[], minimum = 4): number {
  const sorted = [...new Set(all)].sort()
  let length = minimum
  for (const id of shown) {
    const at = sorted.indexOf(id)
    for (const neighbour of [sorted[at - 1], sorted[at + 1]]) {
      if (neighbour === undefined) continue
      let common = 0
      while (common < id.length && id[common] === neighbour[common]) common++
      length = Math.max(length, Math.min(id.length, common + 1))
    }
  }
  return length
}
