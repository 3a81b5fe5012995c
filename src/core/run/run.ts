/**
 * `mlx run`: validate -> choose and check Python -> plan the processes (one, or torchrun's)
 * -> create the run (id, directory, resolved config, script, env.json) -> launch -> ingest
 * metrics.jsonl into SQLite as the script writes it -> record the outcome. `mlx resume`
 * relaunches a stopped run from its latest checkpoint through the same launch and follow.
 *
 * A torchrun run over several nodes is one run: node 0's. `mlx run` on another node
 * (`launch.node_rank` > 0) waits for node 0 to create it in the shared store, then starts
 * its own share of the processes on that run's script and directory; only node 0 ingests.
 *
 * The caller gets a handle: `interrupt()` (Ctrl-C: SIGINT to the trainer's process
 * group, then SIGKILL after a grace period or on a second call) and `done`, the final
 * run record. Nothing here prints: progress goes to the observer.
 */
import {spawnSync} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {join, relative} from 'node:path'
import {stringify as toYaml} from 'yaml'
import {loadConfig} from '../config/load.js'
import type {ExperimentConfig} from '../config/schema.js'
import {UserError} from '../errors.js'
import {localLauncher} from '../launch/local.js'
import type {JobState, LaunchedProcess, Launcher, LauncherName, ProcessOutcome} from '../launch/launcher.js'
import {directivePathProblem, slurmLauncher} from '../launch/slurm.js'
import {torchrunLauncher} from '../launch/torchrun.js'
import {advance, initialProgress, type Progress} from '../metrics/progress.js'
import {mlxVersion, runtimeDir} from '../paths.js'
import type {Project} from '../project.js'
import {checkPython, choosePython, countGpus, probePython, runtimeEnv, type PythonChoice, type QuickCheck} from '../python.js'
import {renderScript} from '../recipes/registry.js'
import type {RunRecord, Store} from '../store/store.js'
import {ingestAvailable} from '../store/ingest.js'
import {RunIndexer, type IndexProblem} from './indexer.js'
import type {EarlyCheck} from './quick-check.js'
import {errorText, statusOf} from './outcome.js'

export interface RunOptions {
  configFile: string
  sets: readonly string[]
  name?: string
  python?: string
  /** A quick check already under way (startQuickCheck), run beside the loading of the config. */
  earlyCheck?: EarlyCheck
}

export interface RunObserver {
  onStart?(run: RunRecord, python: PythonChoice): void
  onProgress?(progress: Progress, run: RunRecord): void
  /** A scheduler's job changed state (pending and why, running...). */
  onLaunchState?(state: JobState, run: RunRecord): void
  /** Once, after the process ended and its last lines were ingested. */
  onEnd?(progress: Progress, run: RunRecord): void
}

export interface RunHandle {
  run: RunRecord
  interrupt(): void
  /** mlx run --detach: mlx may exit while the run goes on (later commands catch up with it). */
  detach(): void
  done: Promise<RunRecord>
  /**
   * Once done: the store that holds the run's final record (the project's, or, where its index
   * failed during the run, one of this run made in memory from its files), and what failed.
   */
  ended(): {store: Store; indexProblem: IndexProblem | null}
}

/** How long the trainer gets to stop after SIGINT before its process group is killed. */
export const INTERRUPT_GRACE_MS = 10_000
/**
 * How long a node other than 0 waits for node 0 to create the run it joins, and, at its end,
 * for node 0 to record the outcome: MLX_JOIN_WAIT_SECONDS, else two minutes.
 */
function joinWaitMs(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env.MLX_JOIN_WAIT_SECONDS)
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 120_000
}
const POLL_MS = 200

/** `launch.gpus` as CUDA_VISIBLE_DEVICES: all (leave it as it is), the first N, or a list of ids. */
export function visibleGpus(gpus: ExperimentConfig['launch']['gpus']): Record<string, string> {
  if (gpus === 'all') return {}
  const ids = typeof gpus === 'number' ? Array.from({length: gpus}, (_, i) => i) : gpus
  return {CUDA_VISIBLE_DEVICES: ids.join(',')}
}

export function newRunId(): string {
  return randomBytes(5).toString('hex')
}

export interface PreparedRun {
  config: ExperimentConfig
  python: PythonChoice
  check: QuickCheck
  plan: LaunchPlan
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
  const configured = config.launch.python === undefined ? undefined : {python: config.launch.python, file: options.configFile}
  const python = choosePython(project, options.python, configured)
  const early = options.earlyCheck
  const check = await (early && early.python.command === python.command && early.python.reason === python.reason ? early.check : checkPython(python))
  return {config, python, check, plan: await planLaunch(config, python)}
}

/** A Slurm job's batch script names the project and the store in its directives: paths it cannot hold are refused before anything is created. */
function checkSlurmPaths(project: Project, config: ExperimentConfig): void {
  if (config.launch.launcher !== 'slurm') return
  for (const path of [project.root, project.storeDir]) {
    const problem = directivePathProblem(path)
    if (problem) throw new UserError(problem, 'move the project (or MLX_HOME) to a path without them, or run it with another launcher')
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
  const wanted = launch.gpus === 'all' ? 1 : typeof launch.gpus === 'number' ? launch.gpus : Math.max(...launch.gpus) + 1
  if (asksForGpus && available < wanted) {
    const asked = `launch.device: ${launch.device}, launch.gpus: ${JSON.stringify(launch.gpus)}`
    throw new UserError(
      available === 0 ? `the config asks for CUDA GPUs (${asked}) but torch sees none here` : `the config asks for GPUs that do not exist here (${asked}): torch sees ${available}`,
      available === 0 ? `train on the CPU with --set launch.device=cpu (or auto), or run on a machine with a GPU (mlx doctor shows what torch sees)` : `GPU ids run from 0 to ${available - 1}`,
    )
  }
  if (launch.launcher === 'slurm') {
    // The GPUs are the cluster's: the job asks for them, and each node's torchrun starts a process per GPU.
    const nproc = launch.nproc_per_node === 'auto' ? Math.max(1, launch.slurm.gpus_per_node) : launch.nproc_per_node
    return {launcher: 'slurm', nprocPerNode: nproc, nodes: launch.slurm.nodes, worldSize: nproc * launch.slurm.nodes}
  }
  if (!torchrun) return {launcher: 'local', nprocPerNode: 1, nodes: 1, worldSize: 1}
  const visible = launch.device === 'cpu' ? 0 : launch.gpus === 'all' ? available : typeof launch.gpus === 'number' ? launch.gpus : launch.gpus.length
  const nproc = launch.nproc_per_node === 'auto' ? Math.max(1, visible) : launch.nproc_per_node
  if (visible > 0 && nproc > visible) {
    throw new UserError(`launch.nproc_per_node is ${nproc} but the run sees ${visible} GPU(s): on CUDA each process trains on a GPU of its own`, `set launch.nproc_per_node to ${visible} (or auto), or --set launch.device=cpu for CPU processes`)
  }
  return {launcher: 'torchrun', nprocPerNode: nproc, nodes: launch.nnodes, worldSize: nproc * launch.nnodes}
}

export async function startRun(project: Project, store: Store, prepared: PreparedRun, observer: RunObserver = {}): Promise<RunHandle> {
  const {config} = prepared
  if (config.launch.launcher === 'torchrun' && config.launch.node_rank > 0) return joinRun(project, store, prepared, observer)
  const id = newRunId()
  const runDir = store.runDir(id)
  mkdirSync(join(runDir, 'checkpoints'), {recursive: true})
  const createdAt = Date.now() / 1000
  writeConfigFiles(runDir, id, config)
  store.createRun({id, name: config.name, task: config.task, host: hostname(), config, primaryMetric: config.metrics.primary, primaryGoal: config.metrics.goal}, createdAt)
  // A recipe's script is generated into the run; a user's own script runs where it is.
  if (config.task !== 'script') {
    const script = renderScript(config.task, {runId: id, runName: config.name, version: mlxVersion(), runDir: relative(project.root, runDir) || '.', runtimeDir})
    writeFileSync(join(runDir, 'train.py'), script.source)
  }
  writeFileSync(join(runDir, 'metrics.jsonl'), '')
  return launchRun(project, store, store.getRun(id)!, prepared, [], observer)
}

export interface PreparedResume extends PreparedRun {
  run: RunRecord
  /** The checkpoint to continue from, relative to the run directory. */
  checkpoint: string
}

/**
 * `mlx resume`: a stopped run (interrupted, failed, diverged or completed) continues from
 * its latest checkpoint, in the same directory, appending to its metrics. Its config may be
 * changed with --set (raise train.epochs to train longer).
 */
export async function prepareResume(project: Project, store: Store, ref: string, options: {sets: readonly string[]; python?: string}): Promise<PreparedResume> {
  const run = store.resolveRun(ref)
  if (run.status === 'running') throw new UserError(`run ${run.id} is still running`, 'wait for it to end, or stop the mlx that follows it (Ctrl-C)')
  const configFile = relative(process.cwd(), join(run.runDir, 'config.yaml')) || join(run.runDir, 'config.yaml')
  const {config} = loadConfig(configFile, options.sets, {root: project.root})
  checkSlurmPaths(project, config)
  if (config.task !== run.task) throw new UserError(`a resumed run keeps its task (${run.task})`)
  if (config.task === 'script') throw new UserError(`run ${run.id} runs your own script: mlx cannot tell it where to resume`, `start it again with mlx run (with your script's own resume option in script.args, if it has one)`)
  if (config.launch.nnodes > 1) throw new UserError(`run ${run.id} trains on ${config.launch.nnodes} nodes: mlx resume restarts the processes of one node`, 'resume it on one node (--set launch.nnodes=1 --set launch.rdzv_endpoint=null), or start it again with mlx run on every node')
  const configured = config.launch.python === undefined ? undefined : {python: config.launch.python, file: configFile}
  const python = choosePython(project, options.python, configured)
  const check = await checkPython(python)
  return {run, config, python, check, plan: await planLaunch(config, python), checkpoint: latestCheckpoint(store, run)}
}

/** The checkpoint of the highest step whose file still exists; at equal steps, last.pt. */
function latestCheckpoint(store: Store, run: RunRecord): string {
  const saved = store
    .events(run.id)
    .filter((event) => event.event === 'checkpoint' && typeof event.data.path === 'string' && typeof event.data.step === 'number')
    .map((event) => ({path: event.data.path as string, step: event.data.step as number, line: event.line}))
    .filter((checkpoint) => existsSync(join(run.runDir, checkpoint.path)))
  const rank = (c: {path: string; step: number; line: number}) => [c.step, c.path.endsWith('last.pt') ? 1 : 0, c.line]
  saved.sort((a, b) => {
    const [x, y] = [rank(a), rank(b)]
    return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!
  })
  const latest = saved.at(-1)
  if (!latest) throw new UserError(`run ${run.id} has no checkpoint to resume from`, 'it stopped before writing one; start it again with mlx run')
  return latest.path
}

export function resumeRun(project: Project, store: Store, prepared: PreparedResume, observer: RunObserver = {}): RunHandle {
  // The stopped attempt's file is complete: a line it left without its newline is counted torn now, before a new writer marks it.
  ingestAvailable(store, prepared.run.id, join(prepared.run.runDir, 'metrics.jsonl'), true)
  store.restartRun(prepared.run.id, prepared.config)
  writeConfigFiles(prepared.run.runDir, prepared.run.id, prepared.config)
  return launchRun(project, store, store.getRun(prepared.run.id)!, prepared, ['--resume', join(prepared.run.runDir, prepared.checkpoint)], observer)
}

/** Launches the run's script, follows its metrics, and records how it ended. */
function launchRun(project: Project, store: Store, run: RunRecord, prepared: PreparedRun, extraArgs: string[], observer: RunObserver): RunHandle {
  const {config, python, check} = prepared
  const {id, runDir} = run
  const launchedAt = Date.now() / 1000
  // env.json is for people: written once the trainer has started (git's answers take its time otherwise).
  let envBase: object | undefined
  const writeEnv = (environment: object) => {
    envBase ??= {python_choice: python, git: gitState(project.root), mlx: mlxVersion(), project_root: project.root, launched_at: new Date(launchedAt * 1000).toISOString()}
    writeFileSync(join(runDir, 'env.json'), JSON.stringify({...environment, ...envBase}, null, 2) + '\n')
  }

  store.setLaunch(id, {launcher: prepared.plan.launcher, worldSize: prepared.plan.worldSize, nodes: prepared.plan.nodes})
  // The full record (CUDA, GPUs, packages) needs a second Python to import torch: it waits for the
  // trainer's first metrics, and then runs at the lowest priority, not to slow the first step.
  let envRecorded: Promise<void> | undefined
  const recordEnvironment = () => (envRecorded ??= probePython(python, {packages: true, background: true}).then(writeEnv, (error: Error) => writeEnv({...check, probe_error: error.message})).catch(() => {}))
  let progress = initialProgress()
  const indexer = new RunIndexer(store, run, (records) => {
    progress = advance(progress, records, launchedAt)
    if (records.some((record) => record.kind === 'metrics')) void recordEnvironment()
    observer.onProgress?.(progress, indexer.current())
  })
  const child = launcherFor(prepared, run).launch({
    ...trainerCommand(runDir, config, python, extraArgs),
    cwd: project.root,
    env: trainerEnv(run, config),
    stdoutFile: join(runDir, 'stdout.log'),
    stderrFile: join(runDir, 'stderr.log'),
    onState: (state) => observer.onLaunchState?.(state, indexer.current()),
  })
  // From here on the trainer runs: whatever the index does, it is followed to its end, never orphaned.
  indexer.attempt(() => store.setProcess(id, child.ref))
  try {
    writeEnv(check)
  } catch {
    // A record for people, not for the run: a disk that refuses it refuses the trainer too, which says so.
  }
  const launched = {...indexer.current(), pid: child.ref.pid, jobId: child.ref.jobId}
  observer.onStart?.(launched, python)

  const stopper = escalatingStop(child)
  let detached = false
  let ended: ReturnType<RunHandle['ended']> = {store, indexProblem: null}
  const done = follow(indexer, child, () => detached).then(async (outcome) => {
    stopper.cancel()
    observer.onEnd?.(progress, indexer.current())
    await recordEnvironment()
    const finished = await indexer.finish(outcome, stopper.interrupted())
    ended = {store: finished.store, indexProblem: indexer.indexProblem()}
    return finished.record
  })
  const detach = () => {
    detached = true
    child.detach()
  }
  return {run: launched, interrupt: stopper.interrupt, detach, done, ended: () => ended}
}

function launcherFor(prepared: PreparedRun, run: RunRecord): Launcher {
  const {launch} = prepared.config
  const {plan} = prepared
  switch (plan.launcher) {
    case 'local':
      return localLauncher
    case 'torchrun':
      return torchrunLauncher({
        python: prepared.python.command,
        nprocPerNode: plan.nprocPerNode,
        nnodes: launch.nnodes,
        rdzvEndpoint: launch.rdzv_endpoint,
        rdzvId: run.id,
        maxRestarts: launch.max_restarts,
      })
    case 'slurm':
      return slurmLauncher({
        scriptFile: join(run.runDir, 'job.sbatch'),
        runName: run.name,
        runId: run.id,
        python: prepared.python.command,
        nodes: plan.nodes,
        nprocPerNode: plan.nprocPerNode,
        maxRestarts: launch.max_restarts,
        distributed: plan.worldSize > 1,
        partition: launch.slurm.partition,
        gpusPerNode: launch.slurm.gpus_per_node,
        cpusPerTask: launch.slurm.cpus_per_task,
        mem: launch.slurm.mem,
        time: launch.slurm.time,
        account: launch.slurm.account,
        qos: launch.slurm.qos,
        extra: launch.slurm.extra,
      })
    default: {
      const unreachable: never = plan.launcher
      return unreachable
    }
  }
}

/**
 * What runs: a recipe's generated train.py with the run's config; or a user's script, unchanged,
 * under mlx_runtime.capture, which passes its output through and turns printed lines into metrics.
 */
function trainerCommand(runDir: string, config: ExperimentConfig, python: PythonChoice, extraArgs: string[]): {command: string; args: string[]} {
  if (config.task !== 'script') return {command: python.command, args: [join(runDir, 'train.py'), '--config', join(runDir, 'config.json'), ...extraArgs]}
  const program = config.script.interpreter === 'python' ? [python.command, config.script.path] : [config.script.path]
  const args = config.script.args.map((arg) => arg.replaceAll('{run_dir}', runDir))
  return {command: python.command, args: ['-m', 'mlx_runtime.capture', join(runDir, 'config.json'), '--', ...program, ...args]}
}

/** What the trainer finds in its environment: where its run directory, metrics file and config are. */
function trainerEnv(run: RunRecord, config: ExperimentConfig): Record<string, string> {
  return {
    ...runtimeEnv(),
    ...visibleGpus(config.launch.gpus),
    MLX_RUN_ID: run.id,
    MLX_RUN_DIR: run.runDir,
    MLX_METRICS_FILE: join(run.runDir, 'metrics.jsonl'),
    MLX_CONFIG_FILE: join(run.runDir, 'config.json'),
  }
}

/** Ctrl-C once: SIGINT (the trainer saves and exits), then SIGKILL after the grace period; twice: SIGKILL at once. */
function escalatingStop(child: LaunchedProcess) {
  let interrupts = 0
  let killTimer: NodeJS.Timeout | undefined
  return {
    interrupt() {
      interrupts++
      if (interrupts === 1) {
        child.interrupt()
        killTimer = setTimeout(() => child.kill(), INTERRUPT_GRACE_MS)
      } else {
        child.kill()
      }
    },
    interrupted: () => interrupts > 0,
    cancel: () => clearTimeout(killTimer),
  }
}

/**
 * Node K > 0 of a torchrun run over several nodes: waits for node 0's mlx to create the run
 * (same name and rendezvous endpoint, in the store these nodes share), then starts this
 * node's processes on its script and directory, its output in `node<K>/`. Node 0's mlx
 * ingests the metrics (rank 0 writes them, on whichever node it is) and records the outcome.
 */
async function joinRun(project: Project, store: Store, prepared: PreparedRun, observer: RunObserver): Promise<RunHandle> {
  const {config, python} = prepared
  const head = await waitForHeadRun(store, config)
  const nodeDir = join(head.runDir, `node${config.launch.node_rank}`)
  mkdirSync(nodeDir, {recursive: true})
  const child = launcherFor(prepared, head).launch({
    ...trainerCommand(head.runDir, config, python, []),
    cwd: project.root,
    env: trainerEnv(head, config),
    stdoutFile: join(nodeDir, 'stdout.log'),
    stderrFile: join(nodeDir, 'stderr.log'),
  })
  observer.onStart?.(head, python)
  const stopper = escalatingStop(child)
  const done = outlive(store, head.id, child).then(async (outcome) => {
    stopper.cancel()
    observer.onEnd?.(initialProgress(), head)
    const until = Date.now() + joinWaitMs()
    let record = store.getRun(head.id) ?? head
    while (record.status === 'running' && Date.now() < until) {
      await sleep(POLL_MS)
      record = store.getRun(head.id) ?? head
    }
    // Node 0 records the outcome; should it be gone, this node's own is all there is to say.
    if (record.status !== 'running') return record
    const status = statusOf(outcome, stopper.interrupted(), false)
    return {...record, status, exitCode: outcome.exitCode, signal: outcome.signal, error: status === 'completed' ? null : errorText(nodeDir, outcome, status)}
  })
  return {run: head, interrupt: stopper.interrupt, detach: child.detach, done, ended: () => ({store, indexProblem: null})}
}

/** How long this node's torchrun may go on once node 0 has recorded the run's end. */
const JOIN_LINGER_MS = 20_000

/**
 * This node's processes, ended: when node 0 has recorded the run's end and they linger on
 * (torchrun's agent on this node can hang in its own shutdown once node 0's agent, which
 * held the rendezvous store, has gone), they are stopped; the run is done.
 */
async function outlive(store: Store, headId: string, child: LaunchedProcess): Promise<ProcessOutcome> {
  let exited: ProcessOutcome | undefined
  void child.done.then((outcome) => {
    exited = outcome
  })
  let headEnded: number | undefined
  while (exited === undefined) {
    await Promise.race([child.done, sleep(POLL_MS)])
    if (exited !== undefined) break
    if (headEnded === undefined && store.getRun(headId)?.status !== 'running') headEnded = Date.now()
    if (headEnded !== undefined && Date.now() - headEnded > JOIN_LINGER_MS) {
      child.kill()
      return {...(await child.done), detail: 'stopped after node 0 had recorded the end of the run'}
    }
  }
  return exited
}

async function waitForHeadRun(store: Store, config: ExperimentConfig): Promise<RunRecord> {
  const {launch} = config
  const wait = joinWaitMs()
  const since = Date.now() / 1000 - wait / 1000
  const until = Date.now() + wait
  for (;;) {
    const head = store.listRuns({status: ['running'], name: config.name, since}).find((run) => {
      const headLaunch = (run.config as Partial<ExperimentConfig>).launch
      return headLaunch?.launcher === 'torchrun' && headLaunch.node_rank === 0 && headLaunch.nnodes === launch.nnodes && headLaunch.rdzv_endpoint === launch.rdzv_endpoint
    })
    if (head) return head
    if (Date.now() > until) {
      throw new UserError(
        `node ${launch.node_rank}: no run ${JSON.stringify(config.name)} of node 0 on rendezvous ${launch.rdzv_endpoint} appeared in ${relative(process.cwd(), store.runDir('')) || '.mlx/runs'} within ${wait / 1000} s`,
        'start the same mlx run on node 0 (launch.node_rank: 0) first; every node must share the project directory (MLX_HOME on a shared file system)',
      )
    }
    await sleep(POLL_MS)
  }
}

/** Ingests while the process runs; once detached it stops following (and never resolves: nobody waits). */
async function follow(indexer: RunIndexer, child: LaunchedProcess, detached: () => boolean): Promise<ProcessOutcome> {
  let exited: ProcessOutcome | undefined
  void child.done.then((outcome) => {
    exited = outcome
  })
  for (;;) {
    const finished = exited
    // Once the process has ended, the file is complete: a last partial line is torn.
    indexer.catchUp(finished !== undefined)
    if (finished) return finished
    await Promise.race([child.done, sleep(POLL_MS)])
    if (detached()) return new Promise<ProcessOutcome>(() => {})
  }
}


/** The run's resolved config: YAML for people, JSON for the script. */
function writeConfigFiles(runDir: string, id: string, config: ExperimentConfig): void {
  const header = `# The resolved config of run ${id}: defaults filled, overrides applied. config.json holds the same data for the script.\n`
  writeFileSync(join(runDir, 'config.yaml'), header + toYaml(config))
  writeFileSync(join(runDir, 'config.json'), JSON.stringify(config, null, 2) + '\n')
}

/** The project's git commit, whether tracked files differ from it, and a hash of that difference (to tell two dirty states apart). */
function gitState(root: string): {commit: string | null; dirty: boolean | null; diff_sha256: string | null} {
  const git = (args: string[]) => spawnSync('git', args, {cwd: root, encoding: 'utf8', maxBuffer: 1 << 30})
  const head = git(['rev-parse', 'HEAD'])
  if (head.status !== 0) return {commit: null, dirty: null, diff_sha256: null}
  const diff = String(git(['diff', 'HEAD']).stdout)
  return {commit: String(head.stdout).trim(), dirty: diff !== '', diff_sha256: diff === '' ? null : createHash('sha256').update(diff).digest('hex')}
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
