/**
 * Which runs a report shows: `--where` (over runs in memory, or page by page over the store),
 * `--sort`, and the selection `mlx compare` makes from RUN arguments, --last, --status and --tag.
 */
import {metricGoal} from '../metrics/goal.js'
import {flattenParams} from '../config/params.js'
import type {MetricSummary, RunBrief, RunRecord, RunStatus, Store} from '../store/store.js'
import {cellOf, compareRuns, durationOf, uniquePrefixLength, type Comparison, type ParamColumns} from './compare.js'
import {compareSortValues} from './sort.js'
import {checkFields, evaluate, fieldsOf, parseWhere, type FieldReader} from './where.js'

/** Reads the fields of `--where` and `--sort` for one run: builtins, params, metrics (`val/acc`, `val/acc:last`). */
export function runFieldReader(run: RunRecord, summaries: readonly MetricSummary[]): FieldReader {
  const params = flattenParams(run.config)
  const byKey = new Map(summaries.map((s) => [s.key, s]))
  return fieldReaderOf(
    run,
    (key) => (key in params ? {value: params[key]} : undefined),
    (key) => byKey.get(key),
  )
}

/**
 * The one definition of what a field means for a run: a builtin, else a param the run has
 * (lists and null as JSON text), else a metric aggregate (best when its direction is known).
 */
function fieldReaderOf(
  run: RunBrief,
  paramOf: (key: string) => {value: unknown} | undefined,
  summaryOf: (key: string) => MetricSummary | undefined,
): FieldReader {
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
      case 'note':
        return run.notes.map((note) => note.text)
    }
    const param = paramOf(field)
    if (param)
      return typeof param.value === 'number' || typeof param.value === 'string'
        ? param.value
        : JSON.stringify(param.value)
    const [key, aggregate] = field.split(/:(?=(?:last|best|min|max)$)/) as [string, string | undefined]
    const summary = summaryOf(key)
    if (!summary) return undefined
    const goal = metricGoal(key, {[run.primaryMetric]: run.primaryGoal})
    const cell = cellOf(summary, goal)
    return cell[(aggregate ?? (goal ? 'best' : 'last')) as 'last' | 'best' | 'min' | 'max']
  }
}

const BUILTIN_FIELDS = ['id', 'name', 'task', 'status', 'duration', 'tag', 'note']

/** The runs that `--where` keeps. Unknown fields are an error (exit 2) that suggests a near one. */
export function filterRuns(
  runs: readonly RunRecord[],
  summaries: Map<string, MetricSummary[]>,
  where: string,
): RunRecord[] {
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
export function matchingRunIds(
  store: WhereSource,
  where: string,
  filter: {status?: RunStatus[]; tags?: string[]} = {},
  limit = Infinity,
): string[] {
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
    const params = new Map(
      fields.map((field) => [
        field,
        store.paramValues(
          field,
          page.map((run) => run.seq),
        ),
      ]),
    )
    const metrics = new Map(
      metricKeys.map((key) => [
        key,
        store.summariesOfKey(
          key,
          page.map((run) => run.id),
        ),
      ]),
    )
    for (const run of page) {
      const paramOf = (key: string) => {
        const values = params.get(key)
        return values?.has(run.seq) ? {value: values.get(run.seq)} : undefined
      }
      if (
        !evaluate(
          expression,
          fieldReaderOf(run, paramOf, (key) => metrics.get(key)?.get(run.id)),
        )
      )
        continue
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
export function sortRuns(
  runs: readonly RunRecord[],
  summaries: Map<string, MetricSummary[]>,
  sort: string,
): RunRecord[] {
  const [, field, order] = /^(.*?)(?::(asc|desc))?$/.exec(sort)!
  const goal = metricGoal(field!.replace(/:(last|best|min|max)$/, ''))
  const descending = order ? order === 'desc' : goal === 'max'
  const keyed = runs.map((run) => ({run, value: runFieldReader(run, summaries.get(run.id) ?? [])(field!)}))
  const scalar = (value: unknown) => (Array.isArray(value) ? value.join(',') : value)
  return keyed.sort((a, b) => compareSortValues(scalar(a.value), scalar(b.value), descending)).map(({run}) => run)
}

/** What `mlx compare` was asked to compare. */
export interface ComparisonRequest {
  /** RUN arguments: ids, id prefixes or names. */
  refs: readonly string[]
  last: number
  where?: string
  sort?: string
  status?: RunStatus[]
  tags?: string[]
  metrics?: readonly string[]
  params: ParamColumns
}

/**
 * The comparison `request` asks for, and how many leading characters of an id tell the shown
 * runs apart. RUN arguments name runs outright, in their order; otherwise `--where` looks at
 * every run, then `--last` keeps the latest that match, newest first (as `mlx runs` lists them).
 */
export function selectComparison(store: Store, request: ComparisonRequest): {comparison: Comparison; idLength: number} {
  const filter = {status: request.status, tags: request.tags}
  const {refs, where, last} = request
  let runs =
    refs.length > 0
      ? refs.map((ref) => store.resolveRun(ref))
      : where
        ? store.runsById(matchingRunIds(store, where, filter, last))
        : store.listRuns({...filter, limit: last})
  const summaries = store.summaries(runs.map((run) => run.id))
  if (refs.length > 0 && where) runs = filterRuns(runs, summaries, where)
  if (request.sort) runs = sortRuns(runs, summaries, request.sort)
  const idLength = uniquePrefixLength(
    runs.map((run) => run.id),
    store.runIds(),
  )
  return {comparison: compareRuns(runs, summaries, request.metrics, request.params), idLength}
}

/** The param columns flags ask for: every param, a comma-separated list, or (the default) those that differ. */
export function paramColumns(all: boolean, list: string | undefined): ParamColumns {
  if (all) return 'all'
  return list === undefined
    ? 'differing'
    : list
        .split(',')
        .map((key) => key.trim())
        .filter(Boolean)
}
