/**
 * `mlx export RUN`: the run's recipe script, started with `--export`, rebuilds the model from the
 * run's config and checkpoint, exports it (ONNX, TorchScript, torch.export), checks each form's
 * answers against eager PyTorch on validation examples, times each (python/mlx_runtime/export.py),
 * writes `export/` of the run and appends its figures to the run's metrics.jsonl (then indexed:
 * `cost/latency_ms_b1/onnx`... for compare, --where and --sort; an `export` event for mlx show).
 */
import {execa} from 'execa'
import {existsSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {loadConfig} from '../config/load.js'
import {ExitCode, MlxError, ReportedFailure, UserError, excerpt} from '../errors.js'
import type {Project} from '../project/project.js'
import {checkPython, choosePython} from '../project/python.js'
import {scriptCommand, trainerCommand, trainerEnv} from './process.js'
import type {RunRecord, Store} from '../store/store.js'
import {ingestAvailable} from '../store/ingest.js'
import {alignedLines} from '../report/format.js'
import {formatNumber} from '../report/numbers.js'

export const EXPORT_FORMATS = ['onnx', 'torchscript', 'export'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]
export const CHECKPOINT_CHOICES = ['best', 'last'] as const
export type CheckpointChoice = (typeof CHECKPOINT_CHOICES)[number]

export interface ExportOptions {
  formats: ExportFormat[]
  /** Default: best.pt where the run kept one, else last.pt. */
  checkpoint?: CheckpointChoice
  /** Default: the run's data.batch_size. */
  batchSize?: number
  dynamicBatch: boolean
  tolerance: number
  bench: boolean
  device: string
  python?: string
}

/** What the Python side writes to export/report.json (python/mlx_runtime/export.py). */
export interface ParityCheck {
  ok: boolean
  max_abs: number | string
  max_rel: number | string
  worst_output: string | null
  problem?: string
}

export interface FormatReport {
  file: string
  ok: boolean
  error?: string
  export_seconds: number
  bytes?: number | null
  max_abs?: number | string
  max_rel?: number | string
  worst_output?: string | null
  parity?: {example: ParityCheck; unseen: ParityCheck}
  providers?: string[]
}

export interface Timing {
  b1: {p50_ms: number; p95_ms: number; calls: number} | null
  batch: {p50_ms: number; p95_ms: number; calls: number}
  throughput_per_s: number
}

export interface ExportReport {
  checkpoint: string
  step: number
  device: string
  threads: number
  tolerance: number
  batch_size: number
  unseen_batch_size: number
  dynamic_batch: boolean
  inputs: Array<{name: string; shape: number[]; dtype: string; dynamic_dims: number[]}>
  outputs: string[]
  formats: Partial<Record<ExportFormat, FormatReport>>
  latency?: Record<string, Timing>
}

export interface ExportResult {
  id: string
  name: string
  /** The export folder of the run. */
  dir: string
  report: ExportReport
}

export interface PreparedExport {
  run: RunRecord
  /** What rebuilds the model: the run's recipe script with --export, or the user's script with $MLX_EXPORT. */
  command: string
  args: string[]
  env: Record<string, string>
  /** The checkpoint exported, relative to the run directory; a script's own (register_model's): null. */
  checkpoint: string | null
}

/** `--format onnx,torchscript`: known names, each once, in the order given. */
export function parseFormats(text: string): ExportFormat[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
  const unknown = names.filter((name) => !(EXPORT_FORMATS as readonly string[]).includes(name))
  if (unknown.length > 0 || names.length === 0)
    throw new UserError(
      unknown.length > 0
        ? `unknown export format ${unknown.map((name) => JSON.stringify(excerpt(name))).join(', ')}`
        : 'no export format given',
      `--format takes a comma-separated list of ${EXPORT_FORMATS.join(', ')}`,
    )
  return [...new Set(names)] as ExportFormat[]
}

/** The run, its checkpoint and the interpreter, checked before anything is written: bad input stops here. */
export async function prepareExport(
  project: Project,
  store: Store,
  ref: string,
  options: ExportOptions,
): Promise<PreparedExport> {
  const run = store.resolveRun(ref)
  if (run.status === 'running')
    throw new UserError(
      `run ${run.id} is still running`,
      'export it once it has ended (or mlx stop it: it saves a checkpoint)',
    )
  const script = run.task === 'script'
  if (script && options.checkpoint !== undefined)
    throw new UserError(
      `run ${run.id} runs your own script: its checkpoint is the one the script names to mlx_runtime.register_model`,
      'leave out --checkpoint',
    )
  const checkpoint = script ? null : chooseCheckpoint(run, options.checkpoint)
  const configFile = join(run.runDir, 'config.yaml')
  const {config} = loadConfig(configFile, [], {root: project.root})
  const configured = config.launch.python === undefined ? undefined : {python: config.launch.python, file: configFile}
  const python = choosePython(project, options.python, configured)
  await checkPython(python)
  const data = 'data' in config ? (config.data as {batch_size?: number}) : {}
  const request = {
    out_dir: join(run.runDir, 'export'),
    formats: options.formats,
    batch_size: options.batchSize ?? data.batch_size ?? 32,
    dynamic_batch: options.dynamicBatch,
    tolerance: options.tolerance,
    bench: options.bench,
    checkpoint: checkpoint ?? 'registered by the script',
    device: options.device,
    step: Math.max(0, ...(store.summaries([run.id]).get(run.id) ?? []).map((summary) => summary.lastStep)),
  }
  const env = trainerEnv(run, config)
  if (config.task === 'script') {
    // The script as the run started it, without the capture of its printed lines (which would log them again).
    const {command, args} = scriptCommand(run.runDir, config, python)
    return {run, command, args, env: {...env, MLX_EXPORT: JSON.stringify(request)}, checkpoint}
  }
  const exportArgs = ['--resume', join(run.runDir, checkpoint!), '--export', JSON.stringify(request)]
  return {run, ...trainerCommand(run.runDir, config, python, exportArgs), env, checkpoint}
}

function chooseCheckpoint(run: RunRecord, choice: CheckpointChoice | undefined): string {
  const path = (name: string) => join('checkpoints', `${name}.pt`)
  const has = (name: string) => existsSync(join(run.runDir, path(name)))
  if (choice !== undefined) {
    if (has(choice)) return path(choice)
    throw new UserError(
      `run ${run.id} has no ${choice} checkpoint (${path(choice)})`,
      has(choice === 'best' ? 'last' : 'best')
        ? `--checkpoint ${choice === 'best' ? 'last' : 'best'} exports the one it has`
        : 'it stopped before saving one; train it with mlx run (or mlx resume)',
    )
  }
  for (const name of CHECKPOINT_CHOICES) if (has(name)) return path(name)
  throw new UserError(
    `run ${run.id} has no checkpoint to export (checkpoints/best.pt or last.pt)`,
    'it stopped before saving one; train it with mlx run (or mlx resume)',
  )
}

/** Runs the export, then indexes the figures it appended to metrics.jsonl. */
export async function exportRun(
  projectRoot: string,
  prepared: PreparedExport,
  reopen: <T>(work: (store: Store) => T) => Promise<T>,
): Promise<ExportResult> {
  const {run, command, args, env} = prepared
  const dir = join(run.runDir, 'export')
  // export/ alone is replaced: nothing else of the run is written but the lines appended to metrics.jsonl.
  rmSync(dir, {recursive: true, force: true})
  const child = execa(command, args, {env, cwd: projectRoot, reject: false, all: true})
  const result = await child
  await reopen((store) => ingestAvailable(store, run.id, env.MLX_METRICS_FILE!, true))
  const reportFile = join(dir, 'report.json')
  const written = existsSync(reportFile)
    ? (JSON.parse(readFileSync(reportFile, 'utf8')) as ExportReport | {error: string; hint: string})
    : null
  if (written && 'error' in written) throw new UserError(written.error, written.hint)
  if (written === null && result.exitCode === 0 && run.task === 'script')
    throw new UserError(
      `your script ended without exporting: it never called mlx_runtime.register_model`,
      'call mlx_runtime.register_model(model, example_inputs, checkpoint=...) once the model is built, before training (docs/export.md)',
    )
  if (written === null || (result.exitCode !== 0 && result.exitCode !== 1)) {
    const stderr = String(result.all ?? '')
      .trim()
      .split('\n')
      .slice(-15)
      .join('\n')
    throw new MlxError(
      `the export of run ${run.id} failed (exit ${result.exitCode ?? result.signal})${stderr ? `:\n${stderr}` : ''}`,
      ExitCode.failed,
      'the whole output is above; a recipe error here is one mlx resume would meet too',
    )
  }
  return {id: run.id, name: run.name, dir, report: written}
}

/** Exit 1, with the result for --json, when a format failed to export or its answers differ. */
export function checkExported(result: ExportResult): ExportResult {
  const failing = failures(result.report)
  if (failing.length > 0) throw new ReportedFailure(failing.join('\n'), ExitCode.failed, result)
  return result
}

/** `--tolerance`: a positive number (1e-4, 0.001). */
export function parseTolerance(text: string): number {
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0 || text.trim() === '')
    throw new UserError(`--tolerance ${excerpt(text)} is not a positive number`, 'for example --tolerance 1e-5')
  return value
}

/** The export as a table: per form (eager first), its parity and its latency. */
export function exportTable(result: ExportResult): string {
  const {report} = result
  const ms = (value: number | undefined) =>
    value === undefined ? '-' : value < 1 ? value.toFixed(3) : value.toFixed(2)
  const rows = [['form', 'parity', 'max abs', 'max rel', 'b1 p50/p95 ms', `b${report.batch_size} p50/p95 ms`, 'rows/s']]
  for (const name of ['eager', ...Object.keys(report.formats)]) {
    const entry = report.formats[name as ExportFormat]
    const timing = report.latency?.[name]
    const parity =
      name === 'eager' ? '(reference)' : !entry ? '-' : !entry.parity ? 'FAILED' : entry.ok ? 'ok' : 'DIFFERS'
    rows.push([
      name,
      parity,
      entry?.parity ? formatNumber(Number(entry.max_abs)) : '',
      entry?.parity ? formatNumber(Number(entry.max_rel)) : '',
      timing?.b1 ? `${ms(timing.b1.p50_ms)} / ${ms(timing.b1.p95_ms)}` : timing ? 'fixed batch' : '',
      timing ? `${ms(timing.batch.p50_ms)} / ${ms(timing.batch.p95_ms)}` : '',
      timing ? formatNumber(Math.round(timing.throughput_per_s)) : '',
    ])
  }
  const lines = alignedLines(rows)
  const dynamic = report.inputs
    .filter((input) => input.dynamic_dims.length > 0)
    .map((input) => `${input.name} dims ${input.dynamic_dims.join(',')}`)
  return [
    `${result.name} (${result.id}) · ${report.checkpoint} (step ${report.step}) · ${report.device}, ${report.threads} thread(s) · tolerance ${report.tolerance}`,
    `inputs: ${report.inputs.map((input) => `${input.name} ${input.dtype}[${input.shape.join(',')}]`).join(', ')}${dynamic.length > 0 ? ` · dynamic: ${dynamic.join('; ')}` : ' · all fixed'}; unseen batch of ${report.unseen_batch_size}`,
    ...lines,
    ...failures(report).map((line) => `  ${line}`),
    `files: ${result.dir}`,
  ].join('\n')
}

/** A line per format that failed: what the exporter said, or which output differs by how much. */
export function failures(report: ExportReport): string[] {
  return Object.entries(report.formats).flatMap(([name, entry]) => {
    if (entry.ok) return []
    if (!entry.parity) return [`${name} failed to export: ${entry.error ?? 'no reason given'}`]
    const problem = [entry.parity.example, entry.parity.unseen].find((check) => check.problem)?.problem
    return [
      `${name} differs from eager PyTorch beyond ${report.tolerance}: largest in ${entry.worst_output ?? '?'} (max abs ${String(entry.max_abs)})${problem ? `; ${problem}` : ''}`,
    ]
  })
}
