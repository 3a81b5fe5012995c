/**
 * `mlx plot --sweep NAME`: Optuna's pictures of a sweep (python/mlx_runtime/sweep.py `plot`), from
 * the study rebuilt from the store's trials: the optimisation history, the parallel coordinates of
 * the params against the objective, and the parameter importances, each as PNG and HTML.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {execa} from 'execa'
import {UserError} from '../errors.js'
import {runtimeEnv, type PythonChoice} from '../project/python.js'
import type {Store} from '../store/store.js'
import {readDefinition, sweepDir} from './paths.js'
import {sweepState} from './sweep.js'

export interface SweepPlots {
  sweep: string
  out: string
  /** Each figure's files (PNG, HTML), or why it was not drawn. */
  figures: Record<string, string[] | string>
  /** Each param's importance (Optuna's default evaluator), when there were trials enough. */
  importances: Record<string, number> | string | null
}

export async function plotSweep(
  store: Store,
  name: string,
  python: PythonChoice,
  out: string | undefined,
): Promise<SweepPlots> {
  const {spec} = readDefinition(store, name)
  const {finished} = await sweepState(store, spec, {stopOrphans: false})
  if (finished.length === 0)
    throw new UserError(`sweep ${name} has no finished trial to draw yet`, 'mlx sweeps shows how far it is')
  const folder = resolve(out ?? join(sweepDir(store, name), 'plots'))
  mkdirSync(folder, {recursive: true})
  const history = join(folder, 'history.json')
  writeFileSync(
    history,
    JSON.stringify({
      method: spec.method === 'grid' ? 'random' : spec.method, // the pictures need the trials, not the grid's sampler
      directions: spec.objectives.map((objective) => (objective.goal === 'max' ? 'maximize' : 'minimize')),
      space: spec.space,
      history: finished,
      objective: spec.objectives.map((objective) => objective.metric).join(', '),
    }),
  )
  const result = await execa(python.command, ['-m', 'mlx_runtime.sweep', 'plot', history, folder], {
    env: {...runtimeEnv(), PYTHONWARNINGS: 'ignore'},
    reject: false,
  })
  if (result.exitCode !== 0)
    throw new UserError(
      `drawing sweep ${name} failed: ${String(result.stderr).trim().split('\n').at(-1)}`,
      `the pictures need optuna, plotly and matplotlib in ${python.command} (make setup installs them)`,
    )
  const drawn = JSON.parse(String(result.stdout).trim().split('\n').at(-1)!) as Record<string, unknown>
  const {importance_values: importances, ...figures} = drawn
  return {
    sweep: name,
    out: folder,
    figures: figures as SweepPlots['figures'],
    importances: (importances ?? null) as SweepPlots['importances'],
  }
}
