/**
 * The trainer's processes, launched and followed: the launcher for the run (local, torchrun,
 * Slurm), the command and environment the script gets, Ctrl-C escalating from SIGINT to
 * SIGKILL, metrics.jsonl ingested while it trains, and the outcome recorded. The caller gets a
 * handle: `interrupt()`, `detach()` and `done`, the final run record. Nothing here prints:
 * progress goes to the observer.
 */
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {ExperimentConfig} from '../config/schema.js'
import {localLauncher} from '../launch/local.js'
import type {JobState, LaunchedProcess, Launcher, ProcessOutcome} from '../launch/launcher.js'
import {slurmLauncher} from '../launch/slurm.js'
import {torchrunLauncher} from '../launch/torchrun.js'
import {advance, initialProgress, type Progress} from '../metrics/progress.js'
import {mlxVersion} from '../project/paths.js'
import type {Project} from '../project/project.js'
import {probePython, runtimeEnv, type PythonChoice} from '../project/python.js'
import type {RunRecord, Store} from '../store/store.js'
import {RunIndexer, type IndexProblem} from './indexer.js'
import {type PreparedLaunch} from './plan.js'
import {gitState} from './create.js'

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

export const POLL_MS = 200

/** `launch.gpus` as CUDA_VISIBLE_DEVICES: all (leave it as it is), the first N, or a list of ids. */
export function visibleGpus(gpus: ExperimentConfig['launch']['gpus']): Record<string, string> {
  if (gpus === 'all') return {}
  const ids = typeof gpus === 'number' ? Array.from({length: gpus}, (_, i) => i) : gpus
  return {CUDA_VISIBLE_DEVICES: ids.join(',')}
}

/** Launches the run's script, follows its metrics, and records how it ended. */
export function launchRun(
  project: Project,
  store: Store,
  run: RunRecord,
  prepared: PreparedLaunch,
  extraArgs: string[],
  observer: RunObserver,
): RunHandle {
  const {config, python, check} = prepared
  const {id, runDir} = run
  const launchedAt = Date.now() / 1000
  // env.json is for people: written once the trainer has started (git's answers take its time otherwise).
  let envBase: object | undefined
  const writeEnv = (environment: object) => {
    envBase ??= {
      python_choice: python,
      git: gitState(project.root),
      mlx: mlxVersion(),
      project_root: project.root,
      launched_at: new Date(launchedAt * 1000).toISOString(),
    }
    writeFileSync(join(runDir, 'env.json'), JSON.stringify({...environment, ...envBase}, null, 2) + '\n')
  }

  store.setLaunch(id, {
    launcher: prepared.plan.launcher,
    worldSize: prepared.plan.worldSize,
    nodes: prepared.plan.nodes,
  })
  // The full record (CUDA, GPUs, packages) needs a second Python to import torch: it waits for the
  // trainer's first metrics, and then runs at the lowest priority, not to slow the first step.
  let envRecorded: Promise<void> | undefined
  const recordEnvironment = () =>
    (envRecorded ??= probePython(python, {packages: true, background: true})
      .then(writeEnv, (error: Error) => writeEnv({...check, probe_error: error.message}))
      .catch(() => {}))
  let progress = initialProgress({key: run.primaryMetric, goal: run.primaryGoal})
  const indexer = new RunIndexer(store, run, (records) => {
    progress = advance(progress, records, launchedAt)
    if (records.some((record) => record.kind === 'metrics')) void recordEnvironment()
    observer.onProgress?.(progress, indexer.current())
  })
  const child = launcherFor(prepared, run).launch({
    ...trainerCommand(runDir, config, python, extraArgs),
    cwd: project.root,
    env: {...trainerEnv(run, config), ...prepared.env},
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

export function launcherFor(prepared: PreparedLaunch, run: RunRecord): Launcher {
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
export function trainerCommand(
  runDir: string,
  config: ExperimentConfig,
  python: PythonChoice,
  extraArgs: string[],
): {command: string; args: string[]} {
  if (config.task !== 'script')
    return {
      command: python.command,
      args: [join(runDir, 'train.py'), '--config', join(runDir, 'config.json'), ...extraArgs],
    }
  const script = scriptCommand(runDir, config, python)
  return {
    command: python.command,
    args: ['-m', 'mlx_runtime.capture', join(runDir, 'config.json'), '--', script.command, ...script.args],
  }
}

/** A user's script (`task: script`) as its config starts it, `{run_dir}` in its arguments made the run's directory. */
export function scriptCommand(
  runDir: string,
  config: Extract<ExperimentConfig, {task: 'script'}>,
  python: PythonChoice,
): {command: string; args: string[]} {
  const args = config.script.args.map((arg) => arg.replaceAll('{run_dir}', runDir))
  return config.script.interpreter === 'python'
    ? {command: python.command, args: [config.script.path, ...args]}
    : {command: config.script.path, args}
}

/** What the trainer finds in its environment: where its run directory, metrics file and config are. */
export function trainerEnv(run: RunRecord, config: ExperimentConfig): Record<string, string> {
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
export function escalatingStop(child: LaunchedProcess) {
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

/** Ingests while the process runs; once detached it stops following (and never resolves: nobody waits). */
export async function follow(
  indexer: RunIndexer,
  child: LaunchedProcess,
  detached: () => boolean,
): Promise<ProcessOutcome> {
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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
