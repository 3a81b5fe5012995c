/**
 * `mlx sweep`: trials asked of the sampler (Optuna, sampler.ts), each trained as ordinary runs
 * (one per seed and fold) through the run API that `mlx run` uses, `parallel` of them at a
 * time, each on its own GPU slot or its share of the cores. The pruner is fed the objective
 * from the metrics the runs stream into the store; a pruned trial is stopped as `mlx stop`
 * stops a run (SIGINT: the trainer checkpoints) and recorded `pruned`.
 *
 * The store is the sweep's only state besides its definition (`<store>/sweeps/<name>/`:
 * sweep.json, the frozen base config): `resumeSweep` rebuilds the study from the runs, stops and
 * resumes from their checkpoints the trials that were running, and asks for new trials up to the
 * budget, numbering them after the highest there is.
 */
import {existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join, relative, resolve, sep} from 'node:path'
import {stringify as toYaml} from 'yaml'
import {loadConfig, nonDefaultParams} from '../config/load.js'
import {flattenParams} from '../config/params.js'
import type {ExperimentConfig} from '../config/schema.js'
import {UserError} from '../errors.js'
import {processAlive} from '../launch/processes.js'
import type {Project} from '../project/project.js'
import {checkPython, choosePython, type PythonChoice, type QuickCheck} from '../project/python.js'
import {overriddenParams, sha256} from '../run/provenance.js'
import {planLaunch, prepareResume, type PreparedRun} from '../run/plan.js'
import {reconcileRuns} from '../run/reconcile.js'
import {resumeRun, startRun, type RunHandle} from '../run/run.js'
import {stopRun} from '../run/stop.js'
import type {RunRecord, RunStatus, Store} from '../store/store.js'
import {Sampler, type FinishedTrial, type Params, type TrialState} from './sampler.js'
import type {SweepSpec} from './spec.js'
import {sweepDir} from './paths.js'

/** What `.mlx/sweeps/<name>/sweep.json` holds: the resolved sweep, and how it was made. */
export interface SweepDefinition {
  version: 1
  spec: SweepSpec
  createdAt: number
  /** The user's config, relative to the project, and its hash when the sweep began. */
  configFile: string
  configSha256: string | null
  sets: string[]
  argv: string[]
  python?: string
}

/** Each configuration's repeats: one run per seed and fold (both null: one run as the config says). */
export interface Replica {
  seed: number | null
  fold: number | null
}

export interface SweepObserver {
  /** A run of a trial started (or resumed). */
  onRunStart?(run: RunRecord, trial: number, resumed: boolean): void
  /** A run ended; `trialEnded` when it was the trial's last. */
  onRunEnd?(run: RunRecord, trial: number): void
  onTrialEnd?(trial: number, state: TrialState, values: number[] | null): void
  onPrune?(trial: number, epoch: number, value: number): void
  say?(line: string): void
}

export interface SweepResult {
  name: string
  trials: number
  /** Trials by how they ended; those still open when the sweep was interrupted are `running`. */
  counts: Record<TrialState | 'running', number>
  interrupted: boolean
  runs: number
}

export function replicasOf(spec: SweepSpec): Replica[] {
  const seeds = spec.seeds ?? [null]
  const folds = spec.folds === null ? [null] : Array.from({length: spec.folds}, (_, fold) => fold)
  return seeds.flatMap((seed) => folds.map((fold) => ({seed, fold})))
}

/** Records a new sweep (refusing a name that has one) and its frozen base config. */
export function createSweep(
  project: Project,
  store: Store,
  spec: SweepSpec,
  base: ExperimentConfig,
  origin: {configFile: string; sets: readonly string[]; argv: readonly string[]; python?: string},
): SweepDefinition {
  const dir = sweepDir(store, spec.name)
  if (existsSync(join(dir, 'sweep.json')) || store.sweepRuns(spec.name).length > 0)
    throw new UserError(
      `a sweep named ${JSON.stringify(spec.name)} exists already`,
      `mlx sweep resume ${spec.name} continues it; --name gives this one another name`,
    )
  mkdirSync(dir, {recursive: true})
  const file = resolve(origin.configFile)
  let configSha256: string | null = null
  try {
    configSha256 = sha256(readFileSync(file))
  } catch {
    // A config that cannot be read twice: its path is kept.
  }
  const definition: SweepDefinition = {
    version: 1,
    spec,
    createdAt: Date.now() / 1000,
    configFile: relative(project.root, file).split(sep).join('/') || file,
    configSha256,
    sets: [...origin.sets],
    argv: [...origin.argv],
    ...(origin.python === undefined ? {} : {python: origin.python}),
  }
  writeFileSync(
    join(dir, 'base.yaml'),
    `# The resolved config every trial of sweep ${spec.name} starts from (its sweep section removed).\n${toYaml(base)}`,
  )
  const partial = join(dir, `sweep.json.${process.pid}.partial`)
  writeFileSync(partial, JSON.stringify(definition, null, 2) + '\n')
  renameSync(partial, join(dir, 'sweep.json'))
  return definition
}

interface Job {
  trial: Trial
  replica: Replica
  /** A stopped run of this replica to go on from, rather than a new run. */
  resume?: RunRecord
  handle?: RunHandle
  slot?: number[]
  done?: Promise<void>
}

interface Trial {
  number: number
  params: Params
  pending: Job[]
  running: Set<Job>
  ended: RunRecord[]
  pruned: boolean
  /** The run whose objective the pruner watches (the trial's first replica). */
  leadId: string | null
  reported: Set<number>
  reports: Promise<void>
}

/** Runs (or, from `resumeSweep`, continues) a sweep to its trial budget, or until `interrupt()`. */
export class SweepRunner {
  private readonly trials = new Map<number, Trial>()
  private readonly running = new Set<Job>()
  private stopping = false
  private nextNumber = 0
  private asked = 0
  private freeSlots: number[][] = []
  private readonly counts: SweepResult['counts'] = {complete: 0, pruned: 0, fail: 0, running: 0}
  private runCount = 0
  /** What went wrong in following the trials (the sampler died...): every run is stopped, then it is thrown. */
  private failure: unknown = null
  private readonly replicas: Replica[]
  private readonly baseFile: string

  constructor(
    private readonly project: Project,
    private readonly store: Store,
    private readonly definition: SweepDefinition,
    private readonly python: {choice: PythonChoice; check: QuickCheck},
    private readonly observer: SweepObserver = {},
  ) {
    this.replicas = replicasOf(definition.spec)
    this.baseFile = join(sweepDir(store, definition.spec.name), 'base.yaml')
    const {parallel, gpusPerTrial} = definition.spec
    if (gpusPerTrial > 0)
      this.freeSlots = Array.from({length: parallel}, (_, slot) =>
        Array.from({length: gpusPerTrial}, (_, gpu) => slot * gpusPerTrial + gpu),
      )
  }

  get spec(): SweepSpec {
    return this.definition.spec
  }

  /** Ctrl-C: every running trial stops with a checkpoint (mlx sweep resume continues them); nothing new starts. */
  interrupt(): void {
    if (this.stopping) {
      for (const job of this.running) job.handle?.interrupt() // a second Ctrl-C: kill
      return
    }
    this.stopping = true
    for (const job of this.running) job.handle?.interrupt()
  }

  async run(sampler: Sampler, history: {finished: FinishedTrial[]; open: Trial[]}): Promise<SweepResult> {
    for (const trial of history.finished) this.counts[trial.state]++
    const numbers = [...history.finished.map((trial) => trial.number), ...history.open.map((trial) => trial.number)]
    this.nextNumber = numbers.length === 0 ? 0 : Math.max(...numbers) + 1
    this.asked = new Set(numbers).size
    for (const trial of history.open) {
      this.trials.set(trial.number, trial)
      await sampler.adopt(trial.number, trial.params, trial.leadId ? this.objectiveSeries(trial.leadId) : [])
    }
    try {
      for (;;) {
        while (!this.stopping && this.running.size < this.spec.parallel) {
          const job = await this.nextJob(sampler)
          if (!job) break
          await this.start(job, sampler)
        }
        if (this.running.size === 0) break
        await Promise.race([...this.running].map((job) => job.done!))
      }
    } finally {
      sampler.close()
    }
    if (this.failure !== null) throw this.failure
    this.counts.running = [...this.trials.values()].length
    return {
      name: this.spec.name,
      trials: this.asked,
      counts: this.counts,
      interrupted: this.stopping,
      runs: this.runCount,
    }
  }

  /** The next run to start: an open trial's next replica, else a new trial's first, while the budget lasts. */
  private async nextJob(sampler: Sampler): Promise<Job | undefined> {
    for (const trial of [...this.trials.values()].sort((a, b) => a.number - b.number))
      if (!trial.pruned && trial.pending.length > 0) return trial.pending.shift()
    if (this.asked >= this.spec.trials) return undefined
    const number = this.nextNumber++
    this.asked++
    const params = await sampler.ask(number)
    const trial = newTrial(number, params)
    trial.pending = this.replicas.map((replica) => ({trial, replica}))
    this.trials.set(number, trial)
    return trial.pending.shift()
  }

  private async start(job: Job, sampler: Sampler): Promise<void> {
    const {trial} = job
    job.slot = this.freeSlots.shift()
    const env = this.spec.threadsPerTrial === null ? {} : threadEnv(this.spec.threadsPerTrial)
    const observer = {
      onProgress: (_progress: unknown, run: RunRecord) => {
        if (run.id === trial.leadId) this.watch(trial, sampler)
      },
    }
    try {
      if (job.resume) {
        const sets = job.slot ? [`launch.gpus=${JSON.stringify(job.slot)}`] : []
        const prepared = await prepareResume(this.project, this.store, job.resume.id, {
          sets,
          python: this.definition.python,
        })
        job.handle = resumeRun(this.project, this.store, {...prepared, env}, observer)
      } else {
        const prepared = await this.prepareTrialRun(trial, job.replica, job.slot, env)
        job.handle = await startRun(this.project, this.store, prepared, observer)
      }
    } catch (error) {
      if (job.slot) this.freeSlots.push(job.slot)
      throw error
    }
    this.runCount++
    trial.leadId ??= job.handle.run.id
    trial.running.add(job)
    this.running.add(job)
    this.observer.onRunStart?.(job.handle.run, trial.number, job.resume !== undefined)
    if (this.stopping) job.handle.interrupt()
    job.done = job.handle.done
      .then(async (record) => {
        this.running.delete(job)
        trial.running.delete(job)
        if (job.slot) this.freeSlots.push(job.slot)
        await trial.reports
        if (trial.pruned && record.status === 'interrupted' && !this.stopping) this.store.markPruned(record.id)
        const final = this.store.getRun(record.id) ?? record
        trial.ended.push(final)
        this.observer.onRunEnd?.(final, trial.number)
        if (trial.running.size === 0 && (trial.pending.length === 0 || trial.pruned) && !this.stoppedOpen(trial))
          await this.finish(trial, sampler)
      })
      .catch((error: unknown) => this.fail(error))
  }

  /** A failure of the sweep itself: the runs stop with a checkpoint (resume continues them), then it is thrown. */
  private fail(error: unknown): void {
    this.failure ??= error
    this.interrupt()
  }

  /** An interrupted sweep leaves a trial open (resume continues it) unless the pruner had ended it. */
  private stoppedOpen(trial: Trial): boolean {
    return this.stopping && !trial.pruned && trial.ended.some((run) => run.status === 'interrupted')
  }

  private async finish(trial: Trial, sampler: Sampler): Promise<void> {
    this.trials.delete(trial.number)
    const {state, values} = trialOutcome(trial.ended, this.spec, this.store, trial.pruned)
    await sampler.tell(trial.number, state, values)
    this.counts[state]++
    this.observer.onTrialEnd?.(trial.number, state, values)
  }

  /** Feeds the pruner the lead run's new objective values (one per epoch); a prune stops the trial's runs. */
  private watch(trial: Trial, sampler: Sampler): void {
    if (this.spec.prune.method === 'none' || trial.pruned || trial.leadId === null) return
    const fresh = this.objectiveSeries(trial.leadId).filter(([step]) => !trial.reported.has(step))
    if (fresh.length === 0) return
    for (const [step] of fresh) trial.reported.add(step)
    trial.reports = trial.reports
      .then(async () => {
        for (const [step, value] of fresh) {
          if (trial.pruned) return
          if (await sampler.report(trial.number, step, value)) {
            trial.pruned = true
            trial.pending = []
            this.observer.onPrune?.(trial.number, step, value)
            for (const job of trial.running) job.handle?.interrupt()
          }
        }
      })
      .catch((error: unknown) => this.fail(error))
  }

  private objectiveSeries(runId: string): Array<[number, number]> {
    return objectiveSeriesOf(this.store, runId, this.spec)
  }

  private async prepareTrialRun(
    trial: Trial,
    replica: Replica,
    slot: number[] | undefined,
    env: Record<string, string>,
  ): Promise<PreparedRun> {
    const sets = trialSets(trial.params, replica, slot)
    const name = trialRunName(this.spec.name, trial.number, replica)
    const {config} = loadConfig(this.baseFile, sets, {name, root: this.project.root})
    const {choice, check} = this.python
    const keys = Object.keys(flattenParams(config as Record<string, unknown>))
    return {
      config,
      python: choice,
      check,
      plan: await planLaunch(config, choice),
      env,
      trial: {sweep: this.spec.name, number: trial.number, seed: replica.seed, fold: replica.fold},
      provenance: {
        configFile: this.definition.configFile,
        configSha256: this.definition.configSha256,
        overrides: [...this.definition.sets, ...sets],
        argv: this.definition.argv,
        fromRun: null,
        overriddenParams: overriddenParams([...this.definition.sets, ...sets], keys),
        nonDefaultParams: nonDefaultParams(config),
      },
    }
  }
}

function newTrial(number: number, params: Params): Trial {
  return {
    number,
    params,
    pending: [],
    running: new Set(),
    ended: [],
    pruned: false,
    leadId: null,
    reported: new Set(),
    reports: Promise.resolve(),
  }
}

/** Each trial's process threads, so that `parallel` trials share the cores without oversubscribing them. */
function threadEnv(threads: number): Record<string, string> {
  const value = String(threads)
  return {OMP_NUM_THREADS: value, MKL_NUM_THREADS: value, OPENBLAS_NUM_THREADS: value}
}

/** The overrides that make a trial's run: its params, its seed and fold, its GPU slot. */
export function trialSets(params: Params, replica: Replica, slot: number[] | undefined): string[] {
  return [
    ...Object.entries(params).map(([path, value]) => `${path}=${JSON.stringify(value)}`),
    ...(replica.seed === null ? [] : [`seed=${replica.seed}`]),
    ...(replica.fold === null ? [] : [`data.fold=${replica.fold}`]),
    ...(slot ? [`launch.gpus=${JSON.stringify(slot)}`] : []),
  ]
}

export function trialRunName(sweep: string, number: number, replica: Replica): string {
  const seed = replica.seed === null ? '' : `-s${replica.seed}`
  const fold = replica.fold === null ? '' : `-f${replica.fold}`
  return `${sweep}-t${number}${seed}${fold}`
}

/** How a trial ended, from its runs: pruned, failed (a run failed or diverged), else complete with the mean objective. */
export function trialOutcome(
  runs: readonly RunRecord[],
  spec: SweepSpec,
  store: Store,
  pruned: boolean,
): {state: TrialState; values: number[] | null} {
  if (pruned || runs.some((run) => run.status === 'pruned')) return {state: 'pruned', values: null}
  const completed = runs.filter((run) => run.status === 'completed')
  if (completed.length === 0 || runs.some((run) => run.status === 'failed' || run.status === 'diverged'))
    return {state: 'fail', values: null}
  const values: number[] = []
  for (const objective of spec.objectives) {
    const last = completed.map((run) => store.summariesOfKey(objective.metric, [run.id]).get(run.id)?.last ?? null)
    if (last.some((value) => value === null || !Number.isFinite(value))) return {state: 'fail', values: null}
    values.push((last as number[]).reduce((sum, value) => sum + value, 0) / last.length)
  }
  return {state: 'complete', values}
}

/** A run of an earlier attempt that resume takes up: stopped by a signal or a kill, not by its own failure. */
function resumable(run: RunRecord): boolean {
  const status: RunStatus = run.status
  return status === 'interrupted' || (status === 'failed' && run.exitCode === null && run.signal === null)
}

/**
 * What the store holds of a sweep, as the sampler's history and the trials to go on with. Runs
 * still running under a follower that is gone (a killed `mlx sweep`) are stopped first, with a
 * checkpoint, so that they continue from it.
 */
export async function sweepState(
  store: Store,
  spec: SweepSpec,
  options: {stopOrphans: boolean} = {stopOrphans: true},
): Promise<{finished: FinishedTrial[]; open: Trial[]; runs: RunRecord[]}> {
  reconcileRuns(store)
  if (options.stopOrphans)
    for (const {id} of store.sweepRuns(spec.name)) {
      // Stopping one run catches the others up: each is read again before it is stopped.
      const run = store.getRun(id)
      if (run?.status === 'running') {
        if (run.follower && run.follower.pid !== process.pid && processAlive(run.follower.pid))
          throw new UserError(
            `sweep ${spec.name} is being run by another mlx (process ${run.follower.pid}): run ${run.id} is its`,
            'wait for it, or stop it (Ctrl-C there, or mlx stop on its runs)',
          )
        await stopRun(store, run.id)
      }
    }
  const runs = store.sweepRuns(spec.name)
  const replicas = replicasOf(spec)
  const byTrial = new Map<number, RunRecord[]>()
  for (const run of runs) byTrial.set(run.trial!.number, [...(byTrial.get(run.trial!.number) ?? []), run])
  const finished: FinishedTrial[] = []
  const open: Trial[] = []
  for (const [number, trialRuns] of [...byTrial.entries()].sort((a, b) => a[0] - b[0])) {
    const lead = trialRuns[0]!
    const flat = flattenParams(lead.config)
    const params = Object.fromEntries(Object.keys(spec.space).map((path) => [path, flat[path]]))
    const intermediate = objectiveSeriesOf(store, lead.id, spec)
    // The newest run of each replica is the one that counts (an older one was replaced when it had no checkpoint).
    const latest = new Map<string, RunRecord>()
    for (const run of trialRuns) latest.set(replicaKey(run.trial!), run)
    const counted = [...latest.values()]
    const pruned = counted.some((run) => run.status === 'pruned')
    const failed = counted.some((run) => run.status === 'diverged' || (run.status === 'failed' && !resumable(run)))
    const done = counted.filter((run) => run.status === 'completed')
    if (pruned || failed || done.length === replicas.length) {
      const {state, values} = trialOutcome(counted, spec, store, pruned)
      finished.push({number, params, state, values, intermediate})
      continue
    }
    const trial = newTrial(number, params)
    trial.leadId = lead.id
    for (const step of intermediate.map(([step]) => step)) trial.reported.add(step)
    trial.ended = done
    for (const replica of replicas) {
      const run = latest.get(replicaKey(replica))
      if (run?.status === 'completed') continue
      trial.pending.push(run && resumable(run) ? {trial, replica, resume: run} : {trial, replica})
    }
    open.push(trial)
  }
  return {finished, open, runs}
}

function replicaKey(replica: {seed: number | null; fold: number | null}): string {
  return `${replica.seed ?? ''}/${replica.fold ?? ''}`
}

/** The first objective's values of a run, by epoch (the resource the pruners count), the latest at each. */
function objectiveSeriesOf(store: Store, runId: string, spec: SweepSpec): Array<[number, number]> {
  const byEpoch = new Map<number, number>()
  for (const metric of store.metricValues(runId, spec.objectives[0]!.metric))
    if (metric.value !== null && Number.isFinite(metric.value))
      byEpoch.set(Math.round(metric.epoch ?? metric.step), metric.value)
  return [...byEpoch.entries()].sort((a, b) => a[0] - b[0])
}

/** The Python the trials train with, checked once for the whole sweep. */
export async function sweepPython(
  project: Project,
  definition: Pick<SweepDefinition, 'configFile' | 'python'>,
  base: ExperimentConfig,
): Promise<{choice: PythonChoice; check: QuickCheck}> {
  const configured =
    base.launch.python === undefined ? undefined : {python: base.launch.python, file: definition.configFile}
  const choice = choosePython(project, definition.python, configured)
  return {choice, check: await checkPython(choice)}
}

/** One `mlx sweep` (or resume) at a time per sweep: a lock file holding the pid of the mlx that runs it. */
export function lockSweep(store: Store, name: string): () => void {
  const file = join(sweepDir(store, name), 'lock')
  try {
    const holder = Number(readFileSync(file, 'utf8'))
    if (Number.isInteger(holder) && holder !== process.pid && processAlive(holder))
      throw new UserError(
        `sweep ${name} is being run by another mlx (process ${holder})`,
        'wait for it to end, or stop it with Ctrl-C there',
      )
  } catch (error) {
    if (error instanceof UserError) throw error
  }
  writeFileSync(file, String(process.pid))
  return () => rmSync(file, {force: true})
}

/** The config's own values of the swept params, when every one lies in the search space: the first trial (a grid has none: it takes its own points). */
export function baselineParams(spec: SweepSpec, base: ExperimentConfig): Params | null {
  if (spec.method === 'grid') return null
  const flat = flattenParams(base as Record<string, unknown>)
  const params: Params = {}
  for (const [path, dimension] of Object.entries(spec.space)) {
    const value = flat[path]
    const fits =
      dimension.type === 'categorical'
        ? dimension.choices.some((choice) => choice === value)
        : typeof value === 'number' &&
          value >= dimension.low &&
          value <= dimension.high &&
          (dimension.type === 'float' || Number.isInteger(value))
    if (!fits) return null
    params[path] = value
  }
  return params
}

/** The trials' base config, as the sweep froze it. */
export function baseConfigOf(store: Store, name: string): ExperimentConfig {
  return loadConfig(join(sweepDir(store, name), 'base.yaml')).config
}

export {type Trial}
