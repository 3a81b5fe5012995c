/** `mlx plot`: the curves of runs' metrics, drawn in the terminal, or into a file by matplotlib in the training Python (python/mlx_runtime/plot.py). */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {extname, join, resolve} from 'node:path'
import {execa} from 'execa'
import {excerpt, UserError} from '../errors.js'
import {closest} from '../config/suggest.js'
import {metricGoal} from '../metrics/goal.js'
import {lineChart} from './charts.js'
import {formatNumber} from './numbers.js'
import {runtimeEnv, type PythonChoice} from '../project/python.js'
import type {RunRecord, Store} from '../store/store.js'

export const PLOT_FORMATS = ['.png', '.svg', '.html']

export interface PlotResult {
  /** The file written; null when drawn in the terminal. */
  out: string | null
  metrics: string[]
  runs: string[]
  points: number
}

/** What the x axis counts: the step, the epoch (fractional where the script logs it so), or seconds since the run's first value. */
export type PlotAxis = 'step' | 'epoch' | 'time'

export interface PlotOptions {
  x: PlotAxis
  /** TensorBoard's smoothing weight, 0 (none) to below 1: each point is w * previous + (1 - w) * value. */
  smooth: number
  logY: boolean
}

export const DEFAULT_PLOT: PlotOptions = {x: 'step', smooth: 0, logY: false}

interface Series {
  label: string
  steps: number[]
  values: Array<number | null>
}

/** The curves to draw: one per run and metric, x as asked, smoothed, on a log scale only where positive. */
export function plotSeries(
  store: Store,
  runs: readonly RunRecord[],
  metricKeys: readonly string[],
  options: PlotOptions,
): {metrics: Array<{key: string; goal: string | null; series: Series[]}>; keys: string[]; points: number} {
  if (!(options.smooth >= 0 && options.smooth < 1))
    throw new UserError(
      `--smooth ${options.smooth} is not a weight`,
      'give a weight from 0 (none) to below 1, such as 0.6',
    )
  const rowsOf = new Map(runs.map((run) => [run.id, store.metrics(run.id)]))
  const logged = [...new Set([...rowsOf.values()].flat().map((row) => row.key))]
  const keys = metricKeys.length > 0 ? [...metricKeys] : [...new Set(runs.map((run) => run.primaryMetric))]
  for (const key of keys) {
    if (logged.includes(key)) continue
    const near = closest(key, logged)
    throw new UserError(
      `none of these runs logged ${JSON.stringify(excerpt(key))}${near ? `; did you mean ${near}?` : ''}`,
      `they logged: ${logged.slice(0, 20).join(', ')}${logged.length > 20 ? ', ...' : ''}`,
    )
  }
  let points = 0
  const goals = Object.fromEntries(runs.map((run) => [run.primaryMetric, run.primaryGoal]))
  const metrics = keys.map((key) => {
    const goal = metricGoal(key, goals) ?? null
    const series = runs.map((run) => {
      const rows = rowsOf.get(run.id)!.filter((row) => row.key === key)
      const start = rowsOf.get(run.id)![0]?.t ?? 0
      const xOf = (row: (typeof rows)[number]) =>
        options.x === 'step' ? row.step : options.x === 'epoch' ? row.epoch : row.t - start
      const kept = rows.filter((row) => xOf(row) !== null && (!options.logY || (row.value !== null && row.value > 0)))
      let smoothed: number | null = null
      const values = kept.map((row) => {
        if (row.value === null || !Number.isFinite(row.value) || options.smooth === 0) return row.value
        smoothed = smoothed === null ? row.value : options.smooth * smoothed + (1 - options.smooth) * row.value
        return smoothed
      })
      points += kept.length
      return {label: `${run.name} (${run.id})`, steps: kept.map((row) => xOf(row)!), values}
    })
    return {key, goal, series}
  })
  return {metrics, keys, points}
}

/** The curves in the terminal: a line chart per metric and run, as wide as the terminal allows. */
export function plotText(
  store: Store,
  runs: readonly RunRecord[],
  metricKeys: readonly string[],
  options: PlotOptions,
  columns = 80,
): {text: string; result: PlotResult} {
  const {metrics, keys, points} = plotSeries(store, runs, metricKeys, options)
  const lines: string[] = []
  for (const metric of metrics) {
    const better = metric.goal === 'min' ? ' (lower is better)' : metric.goal === 'max' ? ' (higher is better)' : ''
    const notes = [options.smooth > 0 ? `smoothed ${options.smooth}` : '', options.logY ? 'log10 scale' : '']
      .filter(Boolean)
      .join(', ')
    lines.push(`${metric.key}${better}${notes ? ` · ${notes}` : ''}`)
    for (const series of metric.series) {
      const values = series.values.map((value) => (value !== null && options.logY ? Math.log10(value) : value))
      lines.push(`  ${series.label}`)
      if (series.steps.length === 0) {
        lines.push(`    (no ${metric.key} by ${options.x})`)
        continue
      }
      const finite = series.values.filter((value): value is number => value !== null && Number.isFinite(value))
      if (metric.goal && finite.length > 0)
        lines.push(`    best ${formatNumber(metric.goal === 'min' ? Math.min(...finite) : Math.max(...finite))}`)
      const chart = lineChart(
        series.steps.map((x, at) => [x, values[at] ?? null] as const),
        Math.max(10, Math.min(100, columns - 16)),
        8,
        options.x === 'time' ? 'seconds' : options.x,
      )
      lines.push(...chart.map((line) => `    ${line}`))
    }
  }
  return {text: lines.join('\n'), result: {out: null, metrics: keys, runs: runs.map((run) => run.id), points}}
}

export async function plotRuns(
  store: Store,
  runs: readonly RunRecord[],
  metricKeys: readonly string[],
  out: string,
  python: PythonChoice,
  options: PlotOptions = DEFAULT_PLOT,
): Promise<PlotResult> {
  const extension = extname(out).toLowerCase()
  if (!PLOT_FORMATS.includes(extension))
    throw new UserError(`cannot draw ${excerpt(out)}: the file must end in ${PLOT_FORMATS.join(', ')}`)
  const {metrics, keys, points} = plotSeries(store, runs, metricKeys, options)
  if (points === 0)
    throw new UserError(
      `none of these runs logged ${keys.join(', ')} by ${options.x}`,
      '`mlx show RUN` lists the metrics a run has',
    )
  const folder = mkdtempSync(join(tmpdir(), 'mlx-plot-'))
  try {
    const spec = join(folder, 'spec.json')
    writeFileSync(
      spec,
      JSON.stringify({
        title: runs.length === 1 ? `${runs[0]!.name} (${runs[0]!.id})` : `${runs.length} runs`,
        metrics,
        x: options.x === 'time' ? 'seconds' : options.x,
        log_y: options.logY,
      }),
    )
    const result = await execa(python.command, ['-m', 'mlx_runtime.plot', spec, resolve(out)], {
      env: runtimeEnv(),
      reject: false,
    })
    if (result.exitCode !== 0) {
      throw new UserError(
        `drawing ${out} failed: ${String(result.stderr).trim().split('\n').at(-1)}`,
        `the plot needs matplotlib in ${python.command} (make setup installs it)`,
      )
    }
  } finally {
    rmSync(folder, {recursive: true, force: true})
  }
  return {out: resolve(out), metrics: keys, runs: runs.map((run) => run.id), points}
}
