/**
 * `mlx run`: validate -> choose and probe Python -> create the run (id, directory,
 * resolved config, script, env.json) -> launch -> ingest metrics.jsonl into SQLite as
 * the script writes it -> record the outcome.
 *
 * The caller gets a handle: `interrupt()` (Ctrl-C: SIGINT to the trainer's process
 * group, then SIGKILL after a grace period or on a second call) and `done`, the final
 * run record. Nothing here prints: progress goes to the observer.
 */
import {randomBytes} from 'node:crypto'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {join, relative} from 'node:path'
import {execaSync} from 'execa'
import {stringify as toYaml} from 'yaml'
import {loadConfig} from '../config/load.js'
import type {ExperimentConfig} from '../config/schema.js'
import {localLauncher} from '../launch/local.js'
import type {LaunchedProcess, ProcessOutcome} from '../launch/launcher.js'
import {metricGoal} from '../metrics/goal.js'
import {advance, initialProgress, type Progress} from '../metrics/progress.js'
import {readNewLines} from '../metrics/tail.js'
import {mlxVersion, runtimeDir} from '../paths.js'
import type {Project} from '../project.js'
import {checkPython, choosePython, probePython, runtimeEnv, type PythonChoice, type QuickCheck} from '../python.js'
import {renderScript, type RenderedScript} from '../recipes/registry.js'
import type {IngestBatch, RunRecord, RunStatus, Store} from '../store/store.js'

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
  const {config, python, check} = prepared
  const id = newRunId()
  const runDir = store.runDir(id)
  mkdirSync(join(runDir, 'checkpoints'), {recursive: true})

  const createdAt = Date.now() / 1000
  const primaryGoal = config.metrics.goal ?? metricGoal(config.metrics.primary) ?? null
  store.createRun(
    {id, name: config.name, task: config.task, host: hostname(), runDir, config, primaryMetric: config.metrics.primary, primaryGoal},
    createdAt,
  )
  const script = writeRunFiles(project, runDir, id, config, createdAt)
  const envBase = {
    python_choice: python,
    git: gitState(project.root),
    mlx: mlxVersion(),
    template: script.template,
    project_root: project.root,
    created_at: new Date(createdAt * 1000).toISOString(),
  }
  const writeEnv = (environment: object) => writeFileSync(join(runDir, 'env.json'), JSON.stringify({...environment, ...envBase}, null, 2) + '\n')
  writeEnv(check)
  const metricsFile = join(runDir, 'metrics.jsonl')
  writeFileSync(metricsFile, '')

  const child = localLauncher.launch({
    command: python.command,
    args: [join(runDir, 'train.py'), '--config', join(runDir, 'config.json')],
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
  // The full record (CUDA, GPUs) needs torch imported: done beside the trainer's own start-up.
  const envRecorded = probePython(python).then(writeEnv, (error: Error) => writeEnv({...check, probe_error: error.message}))
  const run = store.getRun(id)!
  observer.onStart?.(run, python)

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

  const done = follow(store, run, child, metricsFile, observer).then(async (outcome) => {
    clearTimeout(killTimer)
    await envRecorded
    return finish(store, run, outcome, interrupts > 0)
  })
  return {run, interrupt, done}
}

async function follow(store: Store, run: RunRecord, child: LaunchedProcess, metricsFile: string, observer: RunObserver): Promise<ProcessOutcome> {
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
      progress = advance(progress, batch.records, run.createdAt)
      observer.onProgress?.(progress, run)
    }
    if (finished) {
      observer.onEnd?.(progress, run)
      return finished
    }
    await Promise.race([child.done, sleep(POLL_MS)])
  }
}

/** Ingests whatever metrics.jsonl holds past the stored offset; `final` once the writer has ended. */
export function ingestAvailable(store: Store, runId: string, metricsFile: string, final: boolean): IngestBatch | null {
  const offset = store.ingestOffset(runId)
  const read = readNewLines(metricsFile, offset, final)
  if (read.lines.length === 0 && !read.torn) return null
  return store.ingest(runId, offset, read.lines, read.torn)
}

function finish(store: Store, run: RunRecord, outcome: ProcessOutcome, interrupted: boolean): RunRecord {
  const status = statusOf(outcome, interrupted)
  const error = status === 'completed' ? null : errorText(run.runDir, outcome, status)
  const endedAt = Date.now() / 1000
  store.finishRun(run.id, {status, endedAt, exitCode: outcome.exitCode, signal: outcome.signal, error})
  const record = store.getRun(run.id)!
  writeFileSync(join(run.runDir, 'run.json'), JSON.stringify(runFileOf(record), null, 2) + '\n')
  return record
}

export function statusOf(outcome: ProcessOutcome, interrupted: boolean): RunStatus {
  if (outcome.exitCode === 0) return 'completed'
  return interrupted ? 'interrupted' : 'failed'
}

function errorText(runDir: string, outcome: ProcessOutcome, status: RunStatus): string {
  let tail = ''
  try {
    tail = readFileSync(join(runDir, 'stderr.log'), 'utf8').trimEnd().split('\n').slice(-ERROR_TAIL_LINES).join('\n')
  } catch {
    // No stderr.log: the process never started.
  }
  const how = outcome.signal ? `killed by ${outcome.signal}` : `exit code ${outcome.exitCode}`
  const what = status === 'interrupted' ? `interrupted (${how})` : `the training script failed (${how})`
  return tail ? `${what}\n${tail}` : what
}

/** run.json: the run's own record in its directory, from which the index can be rebuilt. */
function runFileOf(record: RunRecord): Record<string, unknown> {
  const {config: _config, runDir: _runDir, ...rest} = record
  return {...rest, mlx: mlxVersion()}
}

/** The run's config (YAML for people, JSON for the script), its script and run.json. */
function writeRunFiles(project: Project, runDir: string, id: string, config: ExperimentConfig, createdAt: number): RenderedScript {
  const header = `# The resolved config of run ${id}: defaults filled, overrides applied. config.json holds the same data for the script.\n`
  writeFileSync(join(runDir, 'config.yaml'), header + toYaml(config))
  writeFileSync(join(runDir, 'config.json'), JSON.stringify(config, null, 2) + '\n')
  const script = renderScript(config.task, {runId: id, runName: config.name, version: mlxVersion(), runDir: relative(project.root, runDir) || '.', runtimeDir})
  writeFileSync(join(runDir, 'train.py'), script.source)
  writeFileSync(join(runDir, 'run.json'), JSON.stringify({id, name: config.name, task: config.task, status: 'running', createdAt, mlx: mlxVersion()}, null, 2) + '\n')
  return script
}

function gitState(root: string): {commit: string | null; dirty: boolean | null} {
  const git = (args: string[]) => execaSync('git', args, {cwd: root, reject: false})
  const head = git(['rev-parse', 'HEAD'])
  if (head.exitCode !== 0) return {commit: null, dirty: null}
  const status = git(['status', '--porcelain', '--untracked-files=no'])
  return {commit: String(head.stdout).trim(), dirty: String(status.stdout).trim() !== ''}
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
