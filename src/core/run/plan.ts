/** Before anything is created: the config validated, the interpreter checked, the processes planned; for `mlx resume`, the run and the checkpoint to go on from. Bad input stops here. */
import {existsSync, readFileSync} from 'node:fs'
import {join, relative, resolve, sep} from 'node:path'
import {loadConfig, nonDefaultParams} from '../config/load.js'
import {flattenParams} from '../config/params.js'
import type {ExperimentConfig} from '../config/schema.js'
import {UserError} from '../errors.js'
import type {LauncherName} from '../launch/launcher.js'
import {directivePathProblem} from '../launch/slurm.js'
import type {Project} from '../project/project.js'
import {checkPython, choosePython, countGpus, type PythonChoice, type QuickCheck} from '../project/python.js'
import type {RunKind, RunRecord, Store, TrialTag} from '../store/store.js'
import type {EarlyCheck} from './quick-check.js'
import {overriddenParams, sha256, type Provenance} from './provenance.js'

export interface RunOptions {
  configFile: string
  sets: readonly string[]
  /** The command line (recorded in the run's provenance). */
  argv?: readonly string[]
  /** The run this one re-runs (`mlx run --from`): its resolved config is `configFile`. */
  fromRun?: {id: string; name: string}
  name?: string
  python?: string
  /** A quick check already under way (startQuickCheck), run beside the loading of the config. */
  earlyCheck?: EarlyCheck
}

/** What launching a run needs: its config, the interpreter and the processes. */
export interface PreparedLaunch {
  config: ExperimentConfig
  python: PythonChoice
  check: QuickCheck
  plan: LaunchPlan
  /** What the trainer's environment gets besides mlx's own (a sweep's thread count per trial). */
  env?: Record<string, string>
}

export interface PreparedRun extends PreparedLaunch {
  /** How the run is being made, but for the git state (taken when it is created). */
  provenance: Omit<Provenance, 'git'>
  /** The sweep trial the run is, when a sweep makes it. */
  trial?: TrialTag
  /** What the run is for (default: train). */
  kind?: RunKind
}

/** The processes a run starts: one (local), or torchrun's `nprocPerNode` on each of `nodes`. */
export interface LaunchPlan {
  launcher: LauncherName
  nprocPerNode: number
  nodes: number
  worldSize: number
}

/** Validates the config, checks the interpreter and plans the processes, creating nothing: bad input stops here. */
export async function prepareRun(project: Project, options: RunOptions): Promise<PreparedRun> {
  const {config} = loadConfig(options.configFile, options.sets, {name: options.name, root: project.root})
  checkSlurmPaths(project, config)
  const provenance = provenanceOf(project, options, config)
  const configured =
    config.launch.python === undefined ? undefined : {python: config.launch.python, file: options.configFile}
  const python = choosePython(project, options.python, configured)
  const early = options.earlyCheck
  const check = await (early && early.python.command === python.command && early.python.reason === python.reason
    ? early.check
    : checkPython(python))
  return {config, python, check, plan: await planLaunch(config, python), provenance}
}

function provenanceOf(project: Project, options: RunOptions, config: ExperimentConfig): Omit<Provenance, 'git'> {
  const file = resolve(options.configFile)
  let configSha256: string | null = null
  try {
    configSha256 = sha256(readFileSync(file))
  } catch {
    // A config read from somewhere that cannot be read twice (a pipe): its path is still recorded.
  }
  return {
    configFile: relative(project.root, file).split(sep).join('/') || file,
    configSha256,
    overrides: [...options.sets],
    argv: [...(options.argv ?? [])],
    fromRun: options.fromRun ?? null,
    overriddenParams: overriddenParams(options.sets, Object.keys(flattenParams(config))),
    nonDefaultParams: nonDefaultParams(config),
  }
}

/** A Slurm job's batch script names the project and the store in its directives: paths it cannot hold are refused before anything is created. */
export function checkSlurmPaths(project: Project, config: ExperimentConfig): void {
  if (config.launch.launcher !== 'slurm') return
  for (const path of [project.root, project.storeDir]) {
    const problem = directivePathProblem(path)
    if (problem)
      throw new UserError(
        problem,
        'move the project (or MLX_HOME) to a path without them, or run it with another launcher',
      )
  }
}

/**
 * One process (local), or torchrun's: `nproc_per_node: auto` is one per GPU the run may
 * see when it trains on CUDA, else one. GPUs asked for (`launch.device: cuda...`,
 * `launch.gpus`) that torch does not see are an error here, before anything starts.
 */
export async function planLaunch(config: ExperimentConfig, python: PythonChoice): Promise<LaunchPlan> {
  const {launch} = config
  // GPUs of this machine: a Slurm job's are on the cluster's nodes.
  const asksForGpus = launch.launcher !== 'slurm' && (launch.device.startsWith('cuda') || launch.gpus !== 'all')
  const torchrun = launch.launcher === 'torchrun'
  const available = asksForGpus || (torchrun && launch.device !== 'cpu') ? await countGpus(python) : 0
  const wanted =
    launch.gpus === 'all' ? 1 : typeof launch.gpus === 'number' ? launch.gpus : Math.max(...launch.gpus) + 1
  if (asksForGpus && available < wanted) {
    const asked = `launch.device: ${launch.device}, launch.gpus: ${JSON.stringify(launch.gpus)}`
    throw new UserError(
      available === 0
        ? `the config asks for CUDA GPUs (${asked}) but torch sees none here`
        : `the config asks for GPUs that do not exist here (${asked}): torch sees ${available}`,
      available === 0
        ? `train on the CPU with --set launch.device=cpu (or auto), or run on a machine with a GPU (mlx doctor shows what torch sees)`
        : `GPU ids run from 0 to ${available - 1}`,
    )
  }
  if (launch.launcher === 'slurm') {
    // The GPUs are the cluster's: the job asks for them, and each node's torchrun starts a process per GPU.
    const nproc = launch.nproc_per_node === 'auto' ? Math.max(1, launch.slurm.gpus_per_node) : launch.nproc_per_node
    return {launcher: 'slurm', nprocPerNode: nproc, nodes: launch.slurm.nodes, worldSize: nproc * launch.slurm.nodes}
  }
  if (!torchrun) return {launcher: 'local', nprocPerNode: 1, nodes: 1, worldSize: 1}
  const visible =
    launch.device === 'cpu'
      ? 0
      : launch.gpus === 'all'
        ? available
        : typeof launch.gpus === 'number'
          ? launch.gpus
          : launch.gpus.length
  const nproc = launch.nproc_per_node === 'auto' ? Math.max(1, visible) : launch.nproc_per_node
  if (visible > 0 && nproc > visible) {
    throw new UserError(
      `launch.nproc_per_node is ${nproc} but the run sees ${visible} GPU(s): on CUDA each process trains on a GPU of its own`,
      `set launch.nproc_per_node to ${visible} (or auto), or --set launch.device=cpu for CPU processes`,
    )
  }
  return {launcher: 'torchrun', nprocPerNode: nproc, nodes: launch.nnodes, worldSize: nproc * launch.nnodes}
}

export interface PreparedResume extends PreparedLaunch {
  run: RunRecord
  /** The checkpoint to continue from, relative to the run directory. */
  checkpoint: string
}

/**
 * `mlx resume`: a stopped run (interrupted, failed, diverged or completed) continues from
 * its latest checkpoint, in the same directory, appending to its metrics. Its config may be
 * changed with --set (raise train.epochs to train longer).
 */
export async function prepareResume(
  project: Project,
  store: Store,
  ref: string,
  options: {sets: readonly string[]; python?: string},
): Promise<PreparedResume> {
  const run = store.resolveRun(ref)
  if (run.status === 'running')
    throw new UserError(
      `run ${run.id} is still running`,
      'wait for it to end, or stop the mlx that follows it (Ctrl-C)',
    )
  const configFile = relative(process.cwd(), join(run.runDir, 'config.yaml')) || join(run.runDir, 'config.yaml')
  const {config} = loadConfig(configFile, options.sets, {root: project.root})
  checkSlurmPaths(project, config)
  if (config.task !== run.task) throw new UserError(`a resumed run keeps its task (${run.task})`)
  if (config.task === 'script')
    throw new UserError(
      `run ${run.id} runs your own script: mlx cannot tell it where to resume`,
      `start it again with mlx run (with your script's own resume option in script.args, if it has one)`,
    )
  if (config.launch.nnodes > 1)
    throw new UserError(
      `run ${run.id} trains on ${config.launch.nnodes} nodes: mlx resume restarts the processes of one node`,
      'resume it on one node (--set launch.nnodes=1 --set launch.rdzv_endpoint=null), or start it again with mlx run on every node',
    )
  const configured = config.launch.python === undefined ? undefined : {python: config.launch.python, file: configFile}
  const python = choosePython(project, options.python, configured)
  const check = await checkPython(python)
  return {run, config, python, check, plan: await planLaunch(config, python), checkpoint: latestCheckpoint(store, run)}
}

/** The checkpoint of the highest step whose file still exists; at equal steps, last.pt. */
export function latestCheckpoint(store: Store, run: RunRecord): string {
  const saved = store
    .events(run.id)
    .filter(
      (event) =>
        event.event === 'checkpoint' && typeof event.data.path === 'string' && typeof event.data.step === 'number',
    )
    .map((event) => ({path: event.data.path as string, step: event.data.step as number, line: event.line}))
    .filter((checkpoint) => existsSync(join(run.runDir, checkpoint.path)))
  const rank = (c: {path: string; step: number; line: number}) => [c.step, c.path.endsWith('last.pt') ? 1 : 0, c.line]
  saved.sort((a, b) => {
    const [x, y] = [rank(a), rank(b)]
    return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!
  })
  const latest = saved.at(-1)
  if (!latest)
    throw new UserError(
      `run ${run.id} has no checkpoint to resume from`,
      'it stopped before writing one; start it again with mlx run',
    )
  return latest.path
}
