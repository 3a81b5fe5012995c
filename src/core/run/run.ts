/**
 * `mlx run`: validate -> choose and check Python -> create the run (id, directory,
 * resolved config, script, env.json) -> launch -> ingest metrics.jsonl into SQLite as
 * the script writes it -> record the outcome. `mlx resume` relaunches a stopped run from
 * its latest checkpoint through the same launch and follow.
 *
 * The caller gets a handle: `interrupt()` (Ctrl-C: SIGINT to the trainer's process
 * group, then SIGKILL after a grace period or on a second call) and `done`, the final
 * run record. Nothing here prints: progress goes to the observer.
 */
import {createHash, randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {join, relative} from 'node:path'
import {execaSync} from 'execa'
import {stringify as toYaml} from 'yaml'
import {loadConfig} from '../config/load.js'
import type {ExperimentConfig} from '../config/schema.js'
import {UserError} from '../errors.js'
import {localLauncher} from '../launch/local.js'
import type {LaunchedProcess, ProcessOutcome} from '../launch/launcher.js'
import {advance, initialProgress, type Progress} from '../metrics/progress.js'
import {mlxVersion, runtimeDir} from '../paths.js'
import type {Project} from '../project.js'
import {checkPython, choosePython, probePython, runtimeEnv, type PythonChoice, type QuickCheck} from '../python.js'
import {renderScript} from '../recipes/registry.js'
import type {RunRecord, RunStatus, Store} from '../store/store.js'
import {ingestAvailable} from './ingest.js'

export interface RunOptions {
  configFile: string
  sets: readonly string[]
  name?: string
  python?: string
}

export interface RunObserver {
  onStart?(run: RunRecord, python: PythonChoice): void
  onProgress?(progress: Progress, run: RunRecord): void
  /** Once, after the process ended and its last lines were ingested. */
  onEnd?(progress: Progress, run: RunRecord): void
}

export interface RunHandle {
  run: RunRecord
  interrupt(): void
  done: Promise<RunRecord>
}

/** How long the trainer gets to stop after SIGINT before its process group is killed. */
export const INTERRUPT_GRACE_MS = 10_000
const POLL_MS = 200
const ERROR_TAIL_LINES = 25

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
}

/** Validates the config and checks the interpreter, creating nothing: bad input stops here. */
export async function prepareRun(project: Project, options: RunOptions): Promise<PreparedRun> {
  const {config} = loadConfig(options.configFile, options.sets)
  if (options.name !== undefined) config.name = options.name
  const configured = config.launch.python === undefined ? undefined : {python: config.launch.python, file: options.configFile}
  const python = choosePython(project, options.python, configured)
  return {config, python, check: await checkPython(python)}
}

export function startRun(project: Project, store: Store, prepared: PreparedRun, observer: RunObserver = {}): RunHandle {
  const {config} = prepared
  const id = newRunId()
  const runDir = store.runDir(id)
  mkdirSync(join(runDir, 'checkpoints'), {recursive: true})
  const createdAt = Date.now() / 1000
  store.createRun(
    {id, name: config.name, task: config.task, host: hostname(), runDir, config, primaryMetric: config.metrics.primary, primaryGoal: config.metrics.goal},
    createdAt,
  )
  writeConfigFiles(runDir, id, config)
  writeRunFile(store.getRun(id)!)
  const script = renderScript(config.task, {runId: id, runName: config.name, version: mlxVersion(), runDir: relative(project.root, runDir) || '.', runtimeDir})
  writeFileSync(join(runDir, 'train.py'), script.source)
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
  const {config} = loadConfig(configFile, options.sets)
  if (config.task !== run.task) throw new UserError(`a resumed run keeps its task (${run.task})`)
  const configured = config.launch.python === undefined ? undefined : {python: config.launch.python, file: configFile}
  const python = choosePython(project, options.python, configured)
  const check = await checkPython(python)
  return {run, config, python, check, checkpoint: latestCheckpoint(store, run)}
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
  store.restartRun(prepared.run.id, prepared.config)
  writeConfigFiles(prepared.run.runDir, prepared.run.id, prepared.config)
  return launchRun(project, store, store.getRun(prepared.run.id)!, prepared, ['--resume', join(prepared.run.runDir, prepared.checkpoint)], observer)
}

/** Launches the run's script, follows its metrics, and records how it ended. */
function launchRun(project: Project, store: Store, run: RunRecord, prepared: PreparedRun, extraArgs: string[], observer: RunObserver): RunHandle {
  const {config, python, check} = prepared
  const {id, runDir} = run
  const launchedAt = Date.now() / 1000
  const envBase = {
    python_choice: python,
    git: gitState(project.root),
    mlx: mlxVersion(),
    project_root: project.root,
    launched_at: new Date(launchedAt * 1000).toISOString(),
  }
  const writeEnv = (environment: object) => writeFileSync(join(runDir, 'env.json'), JSON.stringify({...environment, ...envBase}, null, 2) + '\n')
  writeEnv(check)
  const metricsFile = join(runDir, 'metrics.jsonl')

  const child = localLauncher.launch({
    command: python.command,
    args: [join(runDir, 'train.py'), '--config', join(runDir, 'config.json'), ...extraArgs],
    cwd: project.root,
    env: {
      ...runtimeEnv(),
      ...visibleGpus(config.launch.gpus),
      MLX_RUN_ID: id,
      MLX_RUN_DIR: runDir,
      MLX_METRICS_FILE: metricsFile,
      MLX_CONFIG_FILE: join(runDir, 'config.json'),
    },
    stdoutFile: join(runDir, 'stdout.log'),
    stderrFile: join(runDir, 'stderr.log'),
  })
  if (child.pid > 0) store.setPid(id, child.pid)
  // The full record (CUDA, GPUs, packages) needs torch imported: done beside the trainer's own start-up.
  const envRecorded = probePython(python, {packages: true}).then(writeEnv, (error: Error) => writeEnv({...check, probe_error: error.message}))
  const launched = store.getRun(id)!
  observer.onStart?.(launched, python)

  let interrupts = 0
  let killTimer: NodeJS.Timeout | undefined
  const interrupt = () => {
    interrupts++
    if (interrupts === 1) {
      child.interrupt()
      killTimer = setTimeout(() => child.kill(), INTERRUPT_GRACE_MS)
    } else {
      child.kill()
    }
  }

  const done = follow(store, launched, child, metricsFile, launchedAt, observer).then(async (outcome) => {
    clearTimeout(killTimer)
    await envRecorded
    return finish(store, launched, outcome, interrupts > 0)
  })
  return {run: launched, interrupt, done}
}

async function follow(store: Store, run: RunRecord, child: LaunchedProcess, metricsFile: string, launchedAt: number, observer: RunObserver): Promise<ProcessOutcome> {
  let progress = initialProgress()
  let exited: ProcessOutcome | undefined
  void child.done.then((outcome) => {
    exited = outcome
  })
  for (;;) {
    const finished = exited
    // Once the process has ended, the file is complete: a last partial line is torn.
    const batch = ingestAvailable(store, run.id, metricsFile, finished !== undefined)
    if (batch && batch.records.length > 0) {
      progress = advance(progress, batch.records, launchedAt)
      observer.onProgress?.(progress, run)
    }
    if (finished) {
      observer.onEnd?.(progress, run)
      return finished
    }
    await Promise.race([child.done, sleep(POLL_MS)])
  }
}

function finish(store: Store, run: RunRecord, outcome: ProcessOutcome, interrupted: boolean): RunRecord {
  const diverged = store.events(run.id, true).some((event) => event.event === 'diverged')
  const status = statusOf(outcome, interrupted, diverged)
  const error = status === 'completed' ? null : errorText(run.runDir, outcome, status)
  const endedAt = Date.now() / 1000
  store.finishRun(run.id, {status, endedAt, exitCode: outcome.exitCode, signal: outcome.signal, error})
  const record = store.getRun(run.id)!
  writeRunFile(record)
  return record
}

/** How a run ended: its exit, whether mlx interrupted it, and whether the script reported divergence. */
export function statusOf(outcome: ProcessOutcome, interrupted: boolean, diverged: boolean): RunStatus {
  if (outcome.exitCode === 0) return 'completed'
  if (interrupted) return 'interrupted'
  return diverged ? 'diverged' : 'failed'
}

function errorText(runDir: string, outcome: ProcessOutcome, status: RunStatus): string {
  let tail = ''
  try {
    tail = readFileSync(join(runDir, 'stderr.log'), 'utf8').trimEnd().split('\n').slice(-ERROR_TAIL_LINES).join('\n')
  } catch {
    // No stderr.log: the process never started.
  }
  const how = outcome.signal ? `killed by ${outcome.signal}` : `exit code ${outcome.exitCode}`
  const what = {interrupted: `interrupted (${how})`, diverged: `the loss diverged (${how})`}[status as string] ?? `the training script failed (${how})`
  return tail ? `${what}\n${tail}` : what
}

/** run.json: the run's own record in its directory, from which the index can be rebuilt. */
function writeRunFile(record: RunRecord): void {
  const {config: _config, runDir, ...rest} = record
  writeFileSync(join(runDir, 'run.json'), JSON.stringify({...rest, mlx: mlxVersion()}, null, 2) + '\n')
}

/** The run's resolved config: YAML for people, JSON for the script. */
function writeConfigFiles(runDir: string, id: string, config: ExperimentConfig): void {
  const header = `# The resolved config of run ${id}: defaults filled, overrides applied. config.json holds the same data for the script.\n`
  writeFileSync(join(runDir, 'config.yaml'), header + toYaml(config))
  writeFileSync(join(runDir, 'config.json'), JSON.stringify(config, null, 2) + '\n')
}

/** The project's git commit, whether tracked files differ from it, and a hash of that difference (to tell two dirty states apart). */
function gitState(root: string): {commit: string | null; dirty: boolean | null; diff_sha256: string | null} {
  const git = (args: string[]) => execaSync('git', args, {cwd: root, reject: false, stripFinalNewline: false})
  const head = git(['rev-parse', 'HEAD'])
  if (head.exitCode !== 0) return {commit: null, dirty: null, diff_sha256: null}
  const diff = String(git(['diff', 'HEAD']).stdout)
  return {commit: String(head.stdout).trim(), dirty: diff !== '', diff_sha256: diff === '' ? null : createHash('sha256').update(diff).digest('hex')}
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
