/** `mlx plot`: the curves of runs' metrics, drawn by matplotlib in the training Python (python/mlx_runtime/plot.py). */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {extname, join, resolve} from 'node:path'
import {execa} from 'execa'
import {excerpt, UserError} from '../errors.js'
import {metricGoal} from '../metrics/goal.js'
import {runtimeEnv, type PythonChoice} from '../project/python.js'
import type {RunRecord, Store} from '../store/store.js'

export const PLOT_FORMATS = ['.png', '.svg', '.html']

export interface PlotResult {
  out: string
  metrics: string[]
  runs: string[]
  points: number
}

export async function plotRuns(
  store: Store,
  runs: readonly RunRecord[],
  metricKeys: readonly string[],
  out: string,
  python: PythonChoice,
): Promise<PlotResult> {
  const extension = extname(out).toLowerCase()
  if (!PLOT_FORMATS.includes(extension))
    throw new UserError(`cannot draw ${excerpt(out)}: the file must end in ${PLOT_FORMATS.join(', ')}`)
  const keys = metricKeys.length > 0 ? [...metricKeys] : [...new Set(runs.map((run) => run.primaryMetric))]
  let points = 0
  const metrics = keys.map((key) => {
    const goal = metricGoal(key, Object.fromEntries(runs.map((run) => [run.primaryMetric, run.primaryGoal]))) ?? null
    const series = runs.map((run) => {
      const rows = store.metrics(run.id).filter((row) => row.key === key)
      points += rows.length
      return {
        label: `${run.name} (${run.id})`,
        steps: rows.map((row) => row.step),
        values: rows.map((row) => row.value),
      }
    })
    return {key, goal, series}
  })
  if (points === 0)
    throw new UserError(`none of these runs logged ${keys.join(', ')}`, '`mlx show RUN` lists the metrics a run has')
  const folder = mkdtempSync(join(tmpdir(), 'mlx-plot-'))
  try {
    const spec = join(folder, 'spec.json')
    writeFileSync(
      spec,
      JSON.stringify({title: runs.length === 1 ? `${runs[0]!.name} (${runs[0]!.id})` : `${runs.length} runs`, metrics}),
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
