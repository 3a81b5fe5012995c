/**
 * A sweep's definition, checked before any trial starts: the config's `sweep:` section with the
 * command line's `-p`, `--trials` and `--parallel` on top, every swept path and value tried
 * against the config's schema, the objective against what the recipe logs, folds against the
 * data source, and the slots against the machine. Every problem is exit 2 at FILE:LINE:COL (or
 * the flag that made it), all of them at once.
 */
import {availableParallelism} from 'node:os'
import {parse as parseYamlValue} from 'yaml'
import {ConfigError, excerpt, type Diagnostic} from '../errors.js'
import {checkConfig, configLocator, loadConfig} from '../config/load.js'
import {flattenParams} from '../config/params.js'
import type {ExperimentConfig} from '../config/schema.js'
import {PRUNE_METHODS, type SweepDistribution} from '../config/sections.js'
import {closest} from '../config/suggest.js'
import {RECIPES} from '../config/tasks/index.js'
import {metricGoal, type Goal} from '../metrics/goal.js'
import type {z} from 'zod'

type Distribution = z.output<typeof SweepDistribution>
type Method = NonNullable<ExperimentConfig['sweep']>['method']
type PruneMethod = (typeof PRUNE_METHODS)[number]

/** A swept param as the sampler (mlx_runtime.sweep) takes it. */
export type SearchDimension =
  | {type: 'float'; low: number; high: number; log: boolean}
  | {type: 'int'; low: number; high: number; log: boolean}
  | {type: 'categorical'; choices: Array<string | number | boolean | null>}

export interface Objective {
  metric: string
  goal: Goal
}

/** A sweep, resolved: what `.mlx/sweeps/<name>.json` keeps, and what resume goes on from. */
export interface SweepSpec {
  name: string
  method: Method
  trials: number
  parallel: number
  gpusPerTrial: number
  objectives: Objective[]
  space: Record<string, SearchDimension>
  seeds: number[] | null
  folds: number | null
  prune: {method: PruneMethod; minEpochs: number; reduction: number; maxEpochs: number}
  samplerSeed: number
  /** Threads each trial's process may use (OMP_NUM_THREADS) so that the parallel trials fit the cores. */
  threadsPerTrial: number | null
}

export interface SweepOptions {
  configFile: string
  sets: readonly string[]
  /** `-p PATH=V1,V2` | `-p PATH=uniform:LOW:HIGH` (loguniform, int, logint). */
  params: readonly string[]
  trials?: number
  parallel?: number
  gpusPerTrial?: number
  name?: string
  root: string
  /** GPUs this machine has (asked only when the sweep wants them). */
  countGpus: () => Promise<number>
}

const DEFAULT_TRIALS = 20

/** Reads and checks a sweep: its resolved base config (sweep section removed) and spec. Throws ConfigError with every problem. */
export async function resolveSweep(options: SweepOptions): Promise<{spec: SweepSpec; base: ExperimentConfig}> {
  const {config} = loadConfig(options.configFile, options.sets, {name: options.name, root: options.root})
  const section = config.sweep
  const {sweep: _sweep, ...base} = config
  const problems: Diagnostic[] = []
  const at = configLocator(options.configFile)
  const inSection = (field: string) =>
    section === undefined ? {source: options.configFile, line: 1, column: 1} : at(['sweep'], field)

  // The swept params: the file's, then -p flags (a flag replaces the file's entry for its path).
  const entries = new Map<string, {distribution: Distribution; where: Omit<Diagnostic, 'path' | 'message'>}>()
  for (const [path, distribution] of Object.entries(section?.params ?? {}))
    entries.set(path, {distribution, where: at(['sweep', 'params'], path)})
  for (const flag of options.params) {
    const parsed = parseParamFlag(flag)
    if ('problem' in parsed) problems.push({source: `-p ${excerpt(flag)}`, path: '', ...parsed.problem})
    else entries.set(parsed.path, {distribution: parsed.distribution, where: {source: `-p ${excerpt(flag)}`}})
  }
  if (entries.size === 0 && problems.length === 0)
    problems.push({
      ...inSection('params'),
      path: 'sweep.params',
      message: 'nothing to sweep: no params',
      hint: 'list them under sweep.params (optim.lr: {loguniform: [1.0e-4, 1.0e-1]}) or give -p optim.lr=0.1,0.01',
    })

  const known = Object.keys(flattenParams(base as Record<string, unknown>))
  const space: Record<string, SearchDimension> = {}
  for (const [path, {distribution, where}] of entries) {
    const problem = paramProblem(path, distribution, known, options, base)
    if (problem) problems.push({...where, path: `sweep.params.${path}`, ...problem})
    else space[path] = dimensionOf(distribution)
  }

  // Without a sweep section, lists alone (-p PATH=A,B) make a grid: every combination once.
  const method =
    section?.method ?? (Object.values(space).every((dimension) => dimension.type === 'categorical') ? 'grid' : 'tpe')
  const gridSize =
    method === 'grid'
      ? Object.values(space).reduce(
          (size, dimension) => size * (dimension.type === 'categorical' ? dimension.choices.length : 1),
          1,
        )
      : null
  if (method === 'grid')
    for (const [path, dimension] of Object.entries(space))
      if (dimension.type !== 'categorical')
        problems.push({
          ...entries.get(path)!.where,
          path: `sweep.params.${path}`,
          message: 'a grid takes lists of values, not ranges',
          hint: `give choice values ({choice: [...]} or -p ${path}=A,B,C), or use method: random or tpe`,
        })

  const trials = options.trials ?? section?.trials ?? gridSize ?? DEFAULT_TRIALS
  if (gridSize !== null && trials > gridSize)
    problems.push({
      ...(options.trials === undefined ? inSection('trials') : {source: `--trials ${options.trials}`}),
      path: 'sweep.trials',
      message: `the grid has ${gridSize} points; ${trials} trials would repeat some`,
      hint: `leave trials out (every point once), or set it to ${gridSize} or fewer`,
    })

  const objectiveNames =
    section?.objective === undefined
      ? [base.metrics.primary]
      : typeof section.objective === 'string'
        ? [section.objective]
        : section.objective
  const logged = base.task === 'script' ? null : RECIPES[base.task].evalMetrics(base as never)
  const objectives: Objective[] = []
  for (const metric of objectiveNames) {
    const goal = metric === base.metrics.primary ? base.metrics.goal : metricGoal(metric)
    if (logged && !logged.includes(metric)) {
      const suggestion = closest(metric, logged)
      problems.push({
        ...inSection('objective'),
        path: 'sweep.objective',
        message: `${base.task} does not log ${JSON.stringify(metric)} at evaluation`,
        hint: suggestion ? `did you mean ${suggestion}?` : `it logs ${logged.join(', ')}`,
      })
    } else if (goal === undefined) {
      problems.push({
        ...inSection('objective'),
        path: 'sweep.objective',
        message: `cannot tell whether a higher or lower ${metric} is better`,
        hint: `make it metrics.primary with metrics.goal: min or max`,
      })
    } else objectives.push({metric, goal})
  }
  const pruneMethod = section?.prune.method ?? 'none'
  if (objectiveNames.length > 1 && pruneMethod !== 'none')
    problems.push({
      ...inSection('prune'),
      path: 'sweep.prune',
      message: 'pruning needs a single objective (Optuna prunes single-objective studies only)',
      hint: 'set prune: {method: none}, or optimise one metric',
    })
  if (objectiveNames.length > 1 && method === 'cmaes')
    problems.push({
      ...inSection('method'),
      path: 'sweep.method',
      message: 'cmaes optimises a single objective',
      hint: 'use nsga2 (or tpe, random) for several objectives',
    })

  const folds = section?.folds ?? null
  if (folds !== null) {
    const foldProblem = foldsProblem(base, known)
    if (foldProblem) problems.push({...inSection('folds'), path: 'sweep.folds', ...foldProblem})
  }

  const parallel = options.parallel ?? section?.parallel ?? 1
  const gpusPerTrial = options.gpusPerTrial ?? section?.gpus_per_trial ?? 0
  const parallelAt = options.parallel === undefined ? inSection('parallel') : {source: `--parallel ${parallel}`}
  let threadsPerTrial: number | null = null
  if (gpusPerTrial > 0) {
    const gpus = await options.countGpus()
    if (parallel * gpusPerTrial > gpus)
      problems.push({
        ...parallelAt,
        path: 'sweep.parallel',
        message: `${parallel} trials at once with ${gpusPerTrial} GPU(s) each need ${parallel * gpusPerTrial} GPUs; torch sees ${gpus} here`,
        hint:
          gpus === 0
            ? 'train on the CPU (gpus_per_trial: 0), or sweep on a machine with GPUs'
            : `set parallel to ${Math.max(1, Math.floor(gpus / gpusPerTrial))} or fewer`,
      })
  } else if (base.launch.launcher !== 'slurm') {
    const processes =
      base.launch.launcher === 'torchrun' && typeof base.launch.nproc_per_node === 'number'
        ? base.launch.nproc_per_node
        : 1
    const cores = availableParallelism()
    if (parallel * processes > cores)
      problems.push({
        ...parallelAt,
        path: 'sweep.parallel',
        message: `${parallel} trials at once of ${processes} process(es) each would share ${cores} CPU cores: they would oversubscribe them`,
        hint: `set parallel to ${Math.max(1, Math.floor(cores / processes))} or fewer (each trial gets its share of the cores)`,
      })
    threadsPerTrial = Math.max(1, Math.floor(cores / (parallel * processes)))
  }

  if (problems.length > 0) throw new ConfigError(problems)
  const maxEpochs = base.task === 'script' ? 1 : Math.max(1, Number((base as {train: {epochs: number}}).train.epochs))
  return {
    base: base as ExperimentConfig,
    spec: {
      name: base.name,
      method,
      trials,
      parallel,
      gpusPerTrial,
      objectives,
      space,
      seeds: section?.seeds ?? null,
      folds,
      prune: {
        method: pruneMethod,
        minEpochs: section?.prune.min_epochs ?? 1,
        reduction: section?.prune.reduction ?? 3,
        maxEpochs: Math.max(maxEpochs, ...sweptEpochs(space)),
      },
      samplerSeed: section?.seed ?? 0,
      threadsPerTrial,
    },
  }
}

/** The largest epoch count a swept `train.epochs` reaches (Hyperband's maximum resource). */
function sweptEpochs(space: Record<string, SearchDimension>): number[] {
  const epochs = space['train.epochs']
  if (!epochs) return []
  return epochs.type === 'categorical'
    ? epochs.choices.filter((c): c is number => typeof c === 'number')
    : [epochs.high]
}

/** `-p optim.lr=0.1,0.01` (a list), `-p model.dropout=uniform:0:0.5` (a range: uniform, loguniform, int, logint). */
export function parseParamFlag(
  flag: string,
): {path: string; distribution: Distribution} | {problem: {message: string; hint: string}} {
  const eq = flag.indexOf('=')
  const path = eq < 0 ? '' : flag.slice(0, eq).trim()
  const rest = eq < 0 ? '' : flag.slice(eq + 1)
  const usage = 'for example -p optim.lr=0.1,0.01,0.001 or -p model.dropout=uniform:0:0.5'
  if (path === '' || rest === '' || path.split('.').some((part) => part === ''))
    return {problem: {message: 'expected PATH=VALUES', hint: usage}}
  const range = /^(uniform|loguniform|int|logint):([^:]+):([^:]+)$/.exec(rest)
  if (range) {
    const [low, high] = [Number(range[2]), Number(range[3])]
    if (!Number.isFinite(low) || !Number.isFinite(high))
      return {problem: {message: `${range[1]} needs two numbers, got ${range[2]} and ${range[3]}`, hint: usage}}
    return {path, distribution: {[range[1]!]: [low, high]} as Distribution}
  }
  const choices = rest.split(',').map((word) => {
    try {
      return parseYamlValue(word) as unknown
    } catch {
      return word
    }
  })
  if (choices.some((value) => typeof value === 'object' && value !== null))
    return {problem: {message: 'list values are numbers, words, true/false or null', hint: usage}}
  return {path, distribution: {choice: choices as Array<string | number | boolean | null>}}
}

function dimensionOf(distribution: Distribution): SearchDimension {
  if ('choice' in distribution) return {type: 'categorical', choices: distribution.choice}
  if ('uniform' in distribution)
    return {type: 'float', low: distribution.uniform[0], high: distribution.uniform[1], log: false}
  if ('loguniform' in distribution)
    return {type: 'float', low: distribution.loguniform[0], high: distribution.loguniform[1], log: true}
  if ('int' in distribution) return {type: 'int', low: distribution.int[0], high: distribution.int[1], log: false}
  return {type: 'int', low: distribution.logint[0], high: distribution.logint[1], log: true}
}

/** What is wrong with sweeping `path` over `distribution`: an unknown path, bad bounds, or values the config's schema refuses. */
function paramProblem(
  path: string,
  distribution: Distribution,
  known: readonly string[],
  options: SweepOptions,
  base: ExperimentConfig,
): {message: string; hint?: string} | null {
  if (['name', 'task', 'tags', 'seed'].includes(path) || path.startsWith('sweep.') || path.startsWith('launch.'))
    return {
      message: `${path} cannot be swept`,
      hint: path === 'seed' ? 'list the seeds under sweep.seeds' : 'sweep what changes the model or its training',
    }
  if (!known.includes(path)) {
    const suggestion = closest(path, known)
    return {
      message: `${base.task} has no param ${path}`,
      hint: suggestion ? `did you mean ${suggestion}?` : 'mlx validate --print shows the resolved config and its paths',
    }
  }
  const values: unknown[] = []
  if ('choice' in distribution) values.push(...distribution.choice)
  else {
    const [kind, [low, high]] = Object.entries(distribution)[0] as [string, [number, number]]
    if (!(low < high)) return {message: `${kind} needs low < high, got [${low}, ${high}]`}
    if ((kind === 'loguniform' || kind === 'logint') && low <= 0)
      return {
        message: `${kind} needs bounds above 0, got [${low}, ${high}]`,
        hint: 'a log scale has no 0: start at 1e-6, say',
      }
    if ((kind === 'int' || kind === 'logint') && (!Number.isInteger(low) || !Number.isInteger(high)))
      return {message: `${kind} needs integer bounds, got [${low}, ${high}]`, hint: 'use uniform for real numbers'}
    values.push(low, high)
    // A real-valued range over a field that takes integers would hand it fractions.
    if (kind === 'uniform' || kind === 'loguniform') values.push(low + (high - low) / Math.PI)
  }
  for (const value of values) {
    const set = `${path}=${JSON.stringify(value)}`
    const result = checkConfig(options.configFile, [...options.sets, set], {name: options.name, root: options.root})
    if ('diagnostics' in result) {
      const said =
        result.diagnostics.find((d) => d.source.includes(excerpt(set)) || d.path === path) ?? result.diagnostics[0]!
      const fraction = typeof value === 'number' && !Number.isInteger(value) && !('choice' in distribution)
      if (fraction && values.slice(0, 2).every((bound) => Number.isInteger(bound)))
        return {
          message: `${path} takes whole numbers; a range of real numbers would give it values such as ${Number((value as number).toPrecision(4))}`,
          hint: `use {int: [${values[0]}, ${values[1]}]} (or logint)`,
        }
      return {message: `the value ${JSON.stringify(value)} does not fit: ${said.message}`, hint: said.hint}
    }
  }
  return null
}

/** Folds need the recipe's own split: a recipe that has data.folds, on data without a validation file of the user's. */
function foldsProblem(base: ExperimentConfig, known: readonly string[]): {message: string; hint: string} | null {
  const data = ('data' in base ? base.data : {}) as Record<string, unknown>
  if (!known.includes('data.folds'))
    return {
      message: `${base.task}${data.source === undefined ? '' : ` (data.source: ${String(data.source)})`} cannot split its data into folds`,
      hint: 'cross-validation works for image-classification, tabular and text-classification on their own split; use seeds here',
    }
  for (const key of ['val_path', 'val_dir', 'val'])
    if (data[key] !== undefined && data[key] !== null)
      return {
        message: `data.${key} is given: the validation data is fixed, there is nothing to fold`,
        hint: `remove data.${key} to cross-validate on the training data`,
      }
  return null
}
