/**
 * The comparison of runs behind `mlx compare` and `mlx runs`: flat params, the params
 * that differ, metric aggregates (last, best, min, max) and which run is best in each
 * metric column (direction-aware).
 */
import {RECIPES} from './recipes/registry.js'
import {metricGoal, type Goal} from './metrics/goal.js'
import {compareSortValues} from './sort-values.js'
import type {MetricSummary, RunBrief, RunRecord, RunStatus} from './store/store.js'
import type {Task} from './config/schema.js'
import {flattenParams} from './params.js'
import {checkFields, evaluate, fieldsOf, parseWhere, type FieldReader} from './where.js'

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
  params: Record<string, unknown>
  metrics: Record<string, MetricCell>
}

export interface MetricColumn {
  key: string
  goal: Goal | null
  /** Ids of the runs holding the best value of this metric (ties included). */
  bestRunIds: string[]
}

export interface Comparison {
  runs: ComparedRun[]
  /** The param columns: by default those whose values differ among the runs (none when there is one run). */
  differingParams: string[]
  metrics: MetricColumn[]
}

export function durationOf(run: Pick<RunBrief, 'status' | 'createdAt' | 'endedAt'>, now = Date.now() / 1000): number | null {
  return run.status === 'running' ? now - run.createdAt : run.endedAt === null ? null : run.endedAt - run.createdAt
}

function cellOf(summary: MetricSummary, goal: Goal | undefined): MetricCell {
  const best = goal === 'min' ? summary.min : goal === 'max' ? summary.max : null
  const bestStep = goal === 'min' ? summary.minStep : goal === 'max' ? summary.maxStep : null
  return {last: summary.last, best, min: summary.min, max: summary.max, bestStep, count: summary.count}
}

/** The default metric columns: the key metrics of the runs' recipes that any run has, then the primary metrics. */
export function defaultMetricKeys(runs: readonly RunRecord[], summaries: Map<string, MetricSummary[]>): string[] {
  const present = new Set([...summaries.values()].flat().map((s) => s.key))
  const wanted = new Set<string>()
  for (const run of runs) wanted.add(run.primaryMetric)
  for (const run of runs) for (const key of RECIPES[run.task as Task]?.keyMetrics ?? []) wanted.add(key)
  return [...wanted].filter((key) => present.has(key))
}

/** Which params become columns: those that differ (the default), all of them, or the ones named. */
export type ParamColumns = 'differing' | 'all' | readonly string[]

export function compareRuns(runs: readonly RunRecord[], summaries: Map<string, MetricSummary[]>, metricKeys?: readonly string[], paramColumns: ParamColumns = 'differing'): Comparison {
  const keys = metricKeys && metricKeys.length > 0 ? [...metricKeys] : defaultMetricKeys(runs, summaries)
  const configuredGoals = Object.fromEntries(runs.map((run) => [run.primaryMetric, run.primaryGoal]))
  const goals = new Map(keys.map((key) => [key, metricGoal(key, configuredGoals)]))

  const compared: ComparedRun[] = runs.map((run) => {
    const byKey = new Map((summaries.get(run.id) ?? []).map((s) => [s.key, s]))
    // Metric names are whatever a script logged: fromEntries keeps even `__proto__` an own key.
    const metrics: Record<string, MetricCell> = Object.fromEntries(keys.flatMap((key) => {
      const summary = byKey.get(key)
      return summary ? [[key, cellOf(summary, goals.get(key))]] : []
    }))
    return {
      id: run.id,
      name: run.name,
      task: run.task,
      status: run.status,
      startedAt: new Date(run.createdAt * 1000).toISOString(),
      durationSeconds: durationOf(run),
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

  return {runs: compared, differingParams, metrics}
}

/** The record of one run that `mlx run --json` and `mlx show --json` print. */
export interface RunReport {
  id: string
  name: string
  task: string
  status: RunStatus
  exitCode: number | null
  signal: string | null
  startedAt: string
  endedAt: string | null
  durationSeconds: number | null
  runDir: string
  primary: {key: string; goal: Goal | null} & Partial<MetricCell>
  params: Record<string, unknown>
  metrics: Record<string, MetricCell>
  error: string | null
  ingest: RunRecord['ingest']
  /** The launcher, and the processes and nodes that trained the run. */
  launch: RunRecord['launch']
  /** What the script warned of in its latest attempt (its `warning` events). */
  warnings: string[]
}

/** A run's report; `events` (of its latest attempt) give its warnings. */
export function runReport(run: RunRecord, summaries: readonly MetricSummary[], events: ReadonlyArray<{event: string; data: Record<string, unknown>}> = []): RunReport {
  const goals = {[run.primaryMetric]: run.primaryGoal}
  const metrics = Object.fromEntries(summaries.map((s) => [s.key, cellOf(s, metricGoal(s.key, goals))]))
  return {
    id: run.id,
    name: run.name,
    task: run.task,
    status: run.status,
    exitCode: run.exitCode,
    signal: run.signal,
    startedAt: new Date(run.createdAt * 1000).toISOString(),
    endedAt: run.endedAt === null ? null : new Date(run.endedAt * 1000).toISOString(),
    durationSeconds: durationOf(run),
    runDir: run.runDir,
    primary: {key: run.primaryMetric, goal: run.primaryGoal, ...metrics[run.primaryMetric]},
    params: flattenParams(run.config),
    metrics,
    error: run.error,
    ingest: run.ingest,
    launch: run.launch,
    warnings: events.flatMap((event) => (event.event === 'warning' && typeof event.data.message === 'string' ? [event.data.message] : [])),
  }
}

/** Reads the fields of `--where` and `--sort` for one run: builtins, params, metrics (`val/acc`, `val/acc:last`). */
export function runFieldReader(run: RunRecord, summaries: readonly MetricSummary[]): FieldReader {
  const params = flattenParams(run.config)
  const byKey = new Map(summaries.map((s) => [s.key, s]))
  return fieldReaderOf(run, (key) => (key in params ? {value: params[key]} : undefined), (key) => byKey.get(key))
}

/**
 * The one definition of what a field means for a run: a builtin, else a param the run has
 * (lists and null as JSON text), else a metric aggregate (best when its direction is known).
 */
function fieldReaderOf(run: RunBrief, paramOf: (key: string) => {value: unknown} | undefined, summaryOf: (key: string) => MetricSummary | undefined): FieldReader {
  return (field) => {
    switch (field) {
      case 'id':
        return run.id
      case 'name':
        return run.name
      case 'task':
        return run.task
      case 'status':
        return run.status
      case 'duration':
        return durationOf(run)
      case 'tag':
        return run.tags
    }
    const param = paramOf(field)
    if (param) return typeof param.value === 'number' || typeof param.value === 'string' ? param.value : JSON.stringify(param.value)
    const [key, aggregate] = field.split(/:(?=(?:last|best|min|max)$)/) as [string, string | undefined]
    const summary = summaryOf(key)
    if (!summary) return undefined
    const goal = metricGoal(key, {[run.primaryMetric]: run.primaryGoal})
    const cell = cellOf(summary, goal)
    return cell[(aggregate ?? (goal ? 'best' : 'last')) as 'last' | 'best' | 'min' | 'max']
  }
}

const BUILTIN_FIELDS = ['id', 'name', 'task', 'status', 'duration', 'tag']

/** The runs that `--where` keeps. Unknown fields are an error (exit 2) that suggests a near one. */
export function filterRuns(runs: readonly RunRecord[], summaries: Map<string, MetricSummary[]>, where: string): RunRecord[] {
  const expression = parseWhere(where)
  const known = new Set(BUILTIN_FIELDS)
  for (const run of runs) for (const key of Object.keys(flattenParams(run.config))) known.add(key)
  for (const list of summaries.values()) for (const summary of list) known.add(summary.key)
  if (runs.length > 0) checkFields(expression, [...known], where)
  return runs.filter((run) => evaluate(expression, runFieldReader(run, summaries.get(run.id) ?? [])))
}

/** What `matchingRunIds` reads from the store: runs at a glance, page by page, and the fields named for each page. */
export interface WhereSource {
  briefRunPages(filter: {status?: RunStatus[]; tags?: string[]}): Iterable<Array<RunBrief & {seq: number}>>
  paramValues(key: string, runs: readonly number[]): Map<number, unknown>
  summariesOfKey(key: string, runIds: readonly string[]): Map<string, MetricSummary>
  hasParam(key: string): boolean
  hasMetric(key: string): boolean
  paramKeys(): string[]
  metricKeys(): string[]
}

/**
 * The ids of the (at most `limit`) newest runs that `--where` keeps, newest first, reading
 * only the params and metrics the expression names, a page of runs at a time, and no further
 * than the page where the limit is reached: over 10,000 runs the latest 50 matches cost a few
 * hundred rows, not 10,000 configs. Means the same as `filterRuns`, field for field.
 */
export function matchingRunIds(store: WhereSource, where: string, filter: {status?: RunStatus[]; tags?: string[]} = {}, limit = Infinity): string[] {
  const expression = parseWhere(where)
  const fields = fieldsOf(expression).filter((field) => !BUILTIN_FIELDS.includes(field))
  const metricOf = (field: string) => field.replace(/:(last|best|min|max)$/, '')
  const metricKeys = [...new Set(fields.map(metricOf))]
  const matched: string[] = []
  let first = true
  for (const page of store.briefRunPages(filter)) {
    if (first && fields.some((field) => !store.hasParam(field) && !store.hasMetric(metricOf(field)))) {
      checkFields(expression, [...BUILTIN_FIELDS, ...store.paramKeys(), ...store.metricKeys()], where)
    }
    first = false
    const params = new Map(fields.map((field) => [field, store.paramValues(field, page.map((run) => run.seq))]))
    const metrics = new Map(metricKeys.map((key) => [key, store.summariesOfKey(key, page.map((run) => run.id))]))
    for (const run of page) {
      const paramOf = (key: string) => {
        const values = params.get(key)
        return values?.has(run.seq) ? {value: values.get(run.seq)} : undefined
      }
      if (!evaluate(expression, fieldReaderOf(run, paramOf, (key) => metrics.get(key)?.get(run.id)))) continue
      matched.push(run.id)
      if (matched.length >= limit) return matched
    }
  }
  return matched
}

/**
 * Orders runs by a field: `KEY` or `KEY:asc` / `KEY:desc`. A metric sorts best first by
 * default (its direction), anything else ascending; runs without the field go last.
 */
export function sortRuns(runs: readonly RunRecord[], summaries: Map<string, MetricSummary[]>, sort: string): RunRecord[] {
  const [, field, order] = /^(.*?)(?::(asc|desc))?$/.exec(sort)!
  const goal = metricGoal(field!.replace(/:(last|best|min|max)$/, ''))
  const descending = order ? order === 'desc' : goal === 'max'
  const keyed = runs.map((run) => ({run, value: runFieldReader(run, summaries.get(run.id) ?? [])(field!)}))
  const scalar = (value: unknown) => (Array.isArray(value) ? value.join(',') : value)
  return keyed.sort((a, b) => compareSortValues(scalar(a.value), scalar(b.value), descending)).map(({run}) => run)
}

export interface RunDiff {
  a: {id: string; name: string}
  b: {id: string; name: string}
  /** The params whose values differ. */
  params: Array<{key: string; a: unknown; b: unknown}>
  /** Every metric either run has: best (when its direction is known) and last, and which run is better. */
  metrics: Array<{key: string; aggregate: 'best' | 'last'; a: number | null; b: number | null; better: 'a' | 'b' | null}>
}

export function diffRuns(a: RunRecord, aSummaries: readonly MetricSummary[], b: RunRecord, bSummaries: readonly MetricSummary[]): RunDiff {
  const [pa, pb] = [flattenParams(a.config), flattenParams(b.config)]
  const params = [...new Set([...Object.keys(pa), ...Object.keys(pb)])]
    .sort()
    .filter((key) => JSON.stringify(pa[key] ?? null) !== JSON.stringify(pb[key] ?? null))
    .map((key) => ({key, a: pa[key], b: pb[key]}))
  const [ma, mb] = [new Map(aSummaries.map((s) => [s.key, s])), new Map(bSummaries.map((s) => [s.key, s]))]
  const metrics: RunDiff['metrics'] = []
  for (const key of [...new Set([...ma.keys(), ...mb.keys()])].sort()) {
    const goal = metricGoal(key, {[a.primaryMetric]: a.primaryGoal})
    const [ca, cb] = [ma.get(key), mb.get(key)].map((s) => (s ? cellOf(s, goal) : undefined))
    const aggregates: Array<'best' | 'last'> = goal ? ['best', 'last'] : ['last']
    for (const aggregate of aggregates) {
      const [va, vb] = [ca?.[aggregate] ?? null, cb?.[aggregate] ?? null]
      const better = va === null || vb === null || va === vb || !goal ? null : (goal === 'max') === vb > va ? 'b' : 'a'
      metrics.push({key, aggregate, a: va, b: vb, better})
    }
  }
  return {a: {id: a.id, name: a.name}, b: {id: b.id, name: b.name}, params, metrics}
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
