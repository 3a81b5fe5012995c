/** `mlx diff`: two runs side by side, the params that differ and each metric's best and last. */
import {isTimingMetric, metricGoal, readingOrder} from '../metrics/goal.js'
import {flattenParams} from '../config/params.js'
import type {MetricSummary, RunRecord} from '../store/store.js'
import {cellOf} from './compare.js'
import {alignedLines} from './format.js'
import {formatNumber, formatParam} from './numbers.js'

export interface RunDiff {
  a: {id: string; name: string}
  b: {id: string; name: string}
  /** The params whose values differ. */
  params: Array<{key: string; a: unknown; b: unknown}>
  /**
   * Every metric either run has, the primary first and timing (`perf/*`) last: best (when its
   * direction is known) and last, and which run is better (never judged for timing).
   */
  metrics: Array<{
    key: string
    aggregate: 'best' | 'last'
    a: number | null
    b: number | null
    better: 'a' | 'b' | null
    timing: boolean
  }>
}

export function diffRuns(
  a: RunRecord,
  aSummaries: readonly MetricSummary[],
  b: RunRecord,
  bSummaries: readonly MetricSummary[],
): RunDiff {
  const [pa, pb] = [flattenParams(a.config), flattenParams(b.config)]
  const params = [...new Set([...Object.keys(pa), ...Object.keys(pb)])]
    .sort()
    .filter((key) => JSON.stringify(pa[key] ?? null) !== JSON.stringify(pb[key] ?? null))
    .map((key) => ({key, a: pa[key], b: pb[key]}))
  const [ma, mb] = [new Map(aSummaries.map((s) => [s.key, s])), new Map(bSummaries.map((s) => [s.key, s]))]
  const metrics: RunDiff['metrics'] = []
  for (const key of readingOrder([...ma.keys(), ...mb.keys()], a.primaryMetric)) {
    const timing = isTimingMetric(key)
    const goal = timing ? undefined : metricGoal(key, {[a.primaryMetric]: a.primaryGoal})
    const [ca, cb] = [ma.get(key), mb.get(key)].map((s) => (s ? cellOf(s, goal) : undefined))
    const aggregates: Array<'best' | 'last'> = goal ? ['best', 'last'] : ['last']
    for (const aggregate of aggregates) {
      const [va, vb] = [ca?.[aggregate] ?? null, cb?.[aggregate] ?? null]
      const better = va === null || vb === null || va === vb || !goal ? null : (goal === 'max') === vb > va ? 'b' : 'a'
      metrics.push({key, aggregate, a: va, b: vb, better, timing})
    }
  }
  return {a: {id: a.id, name: a.name}, b: {id: b.id, name: b.name}, params, metrics}
}

/** The diff as a text table: params, then metrics with the change from a to b and the better run by name, then timing. */
export function describeDiff(diff: RunDiff): string {
  const rows: string[][] = [['', `${diff.a.id} (${diff.a.name})`, `${diff.b.id} (${diff.b.name})`, 'change']]
  for (const param of diff.params) rows.push([param.key, formatParam(param.a), formatParam(param.b), ''])
  if (diff.params.length === 0) rows.push(['(the configs are the same)', '', '', ''])
  // Runs of one config share a name: then the ids tell which is better.
  const label = (side: 'a' | 'b') => (diff.a.name === diff.b.name ? diff[side].id : diff[side].name)
  let timingStarted = false
  for (const metric of diff.metrics) {
    if (metric.timing && !timingStarted) {
      rows.push(['timing (not judged)', '', '', ''])
      timingStarted = true
    }
    const change =
      metric.a === null || metric.b === null
        ? ''
        : `${metric.b - metric.a >= 0 ? '+' : ''}${formatNumber(metric.b - metric.a)}${metric.better ? ` (${label(metric.better)} better)` : ''}`
    const name = `${metric.timing ? '  ' : ''}${metric.key} ${metric.aggregate}`
    rows.push([name, formatNumber(metric.a), formatNumber(metric.b), change])
  }
  return alignedLines(rows).join('\n')
}
