/** One run's record: what `mlx run --json` prints, and what `mlx show` adds to it and prints. */
import {isTimingMetric, metricGoal, readingOrder, type Goal} from '../metrics/goal.js'
import {flattenParams} from '../config/params.js'
import {join, relative} from 'node:path'
import type {MetricSummary, RunNote, RunRecord, RunStatus, Store} from '../store/store.js'
import {readProvenance, type Provenance} from '../run/provenance.js'
import {lineChart, sparkline} from './charts.js'
import {listArtifacts, readJsonFile, tailLines, type Artifact} from './inspect.js'
import {formatNumber, noteLine} from './numbers.js'
import {shellWord} from '../shell.js'
import {cellOf, durationOf, type MetricCell} from './compare.js'

/** The record of one run that `mlx run --json` and `mlx show --json` print. */
export interface RunReport {
  id: string
  name: string
  task: string
  /** train, or profile (mlx profile). */
  kind: RunRecord['kind']
  status: RunStatus
  exitCode: number | null
  signal: string | null
  startedAt: string
  endedAt: string | null
  durationSeconds: number | null
  runDir: string
  primary: {key: string; goal: Goal | null} & Partial<MetricCell>
  params: Record<string, unknown>
  metrics: Record<string, MetricCell>
  error: string | null
  ingest: RunRecord['ingest']
  /** The launcher, and the processes and nodes that trained the run. */
  launch: RunRecord['launch']
  /** What the script warned of in its latest attempt (its `warning` events). */
  warnings: string[]
  tags: string[]
  notes: RunNote[]
}

/** A run's report; `events` (of its latest attempt) give its warnings. */
export function runReport(
  run: RunRecord,
  summaries: readonly MetricSummary[],
  events: ReadonlyArray<{event: string; data: Record<string, unknown>}> = [],
): RunReport {
  const goals = {[run.primaryMetric]: run.primaryGoal}
  const byKey = new Map(summaries.map((s) => [s.key, s]))
  const metrics = Object.fromEntries(
    readingOrder(byKey.keys(), run.primaryMetric).map((key) => [
      key,
      cellOf(byKey.get(key)!, isTimingMetric(key) ? undefined : metricGoal(key, goals)),
    ]),
  )
  return {
    id: run.id,
    name: run.name,
    task: run.task,
    kind: run.kind,
    status: run.status,
    exitCode: run.exitCode,
    signal: run.signal,
    startedAt: new Date(run.createdAt * 1000).toISOString(),
    endedAt: run.endedAt === null ? null : new Date(run.endedAt * 1000).toISOString(),
    durationSeconds: durationOf(run),
    runDir: run.runDir,
    primary: {key: run.primaryMetric, goal: run.primaryGoal, ...metrics[run.primaryMetric]},
    params: flattenParams(run.config),
    metrics,
    error: run.error,
    ingest: run.ingest,
    launch: run.launch,
    warnings: events.flatMap((event) =>
      event.event === 'warning' && typeof event.data.message === 'string' ? [event.data.message] : [],
    ),
    tags: run.tags,
    notes: run.notes,
  }
}

/** What `mlx show` reports: the run's record with its curves, config, environment, artifacts, analysis and log ends. */
export interface ShowResult extends RunReport {
  /** Each metric's values in step order (what the sparklines and charts draw). */
  curves: Record<string, Array<[number, number | null]>>
  config: Record<string, unknown>
  /** How the run was made (provenance.json); null for runs made before mlx recorded it. */
  provenance: Provenance | null
  environment: Record<string, unknown> | null
  artifacts: Artifact[]
  /** The recipe's analysis of the last attempt, when it ran: the validation confusion matrix. */
  confusionMatrix: {labels: string[]; matrix: number[][]} | null
  /** The latest `mlx export` of this attempt's model: each format's parity verdict. */
  export: ExportVerdict | null
  /** Events that explain how the run ended (early_stop, interrupted, diverged), latest first. */
  endings: Array<{event: string} & Record<string, unknown>>
  log: {stdout: string[]; stderr: string[]}
}

export interface ExportVerdict {
  at: string
  checkpoint: string
  step: number
  tolerance: number
  formats: Record<
    string,
    {ok: boolean; max_abs: number | string | null; worst_output: string | null; error: string | null}
  >
}

/** The run `ref` names, shown with the last `logLines` lines of each log. */
export function showRun(store: Store, ref: string, logLines: number): ShowResult {
  const run = store.resolveRun(ref)
  const events = store.events(run.id, true)
  const matrix = events.findLast((event) => event.event === 'confusion_matrix')?.data
  const exported = events.findLast((event) => event.event === 'export')
  // Metric names are whatever the script logged (`__proto__` too): gathered in a Map.
  const curves = new Map<string, Array<[number, number | null]>>()
  for (const row of store.metrics(run.id)) {
    if (!curves.has(row.key)) curves.set(row.key, [])
    curves.get(row.key)!.push([row.step, row.value])
  }
  return {
    ...runReport(run, store.summaries([run.id]).get(run.id) ?? [], events),
    curves: Object.fromEntries(curves),
    config: run.config,
    provenance: readProvenance(run.runDir),
    environment: readJsonFile(join(run.runDir, 'env.json')),
    artifacts: listArtifacts(run.runDir),
    confusionMatrix: matrix ? {labels: matrix.labels as string[], matrix: matrix.matrix as number[][]} : null,
    export: exported
      ? {
          at: new Date(exported.t * 1000).toISOString(),
          checkpoint: String(exported.data.checkpoint),
          step: Number(exported.data.step),
          tolerance: Number(exported.data.tolerance),
          formats: exported.data.formats as ExportVerdict['formats'],
        }
      : null,
    endings: events
      .filter((event) => ['early_stop', 'interrupted', 'diverged'].includes(event.event))
      .reverse()
      .map((event) => ({event: event.event, ...event.data})),
    log: {
      stdout: tailLines(join(run.runDir, 'stdout.log'), logLines),
      stderr: tailLines(join(run.runDir, 'stderr.log'), logLines),
    },
  }
}

/** What env.json says of the run's machine: its fields, its git state, its GPUs by name ("none"). */
export function environmentFacts(r: Pick<ShowResult, 'environment'>): {
  env: Record<string, unknown>
  git: {commit?: string | null; dirty?: boolean | null}
  gpus: string
} {
  const env = r.environment ?? {}
  const gpus =
    Array.isArray(env.gpus) && env.gpus.length > 0
      ? (env.gpus as Array<{name: string}>).map((g) => g.name).join(', ')
      : 'none'
  return {env, git: (env.git ?? {}) as {commit?: string | null; dirty?: boolean | null}, gpus}
}

/** `mlx show` as text: the record, then a line chart of each metric in `charts` the run has. */
export function describeRun(r: ShowResult, root: string, charts: readonly string[]): string {
  const {env, git, gpus} = environmentFacts(r)
  const out = [
    `${r.name} (${r.id}) · ${r.task}${r.kind === 'train' ? '' : ` · ${r.kind}`} · ${r.status}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ''}`,
    `started ${r.startedAt}${r.endedAt ? ` · ended ${r.endedAt}` : ''} · ${relative(root, r.runDir) || r.runDir}`,
    ...(r.launch.launcher === 'local'
      ? []
      : [
          `${r.launch.launcher}: ${r.launch.worldSize} process${r.launch.worldSize === 1 ? '' : 'es'} on ${r.launch.nodes} node${r.launch.nodes === 1 ? '' : 's'}`,
        ]),
    ...provenanceLines(r.provenance),
    ...(r.tags.length > 0 ? [`tags: ${r.tags.join(', ')}`] : []),
    ...(r.notes.length > 0 ? ['notes', ...r.notes.map((note) => `  ${noteLine(note)}`)] : []),
    '',
    'metrics (last, best @ step, count, curve)',
  ]
  let timingStarted = false
  for (const key of readingOrder(Object.keys(r.metrics), r.primary.key)) {
    const cell = r.metrics[key]!
    if (isTimingMetric(key) && !timingStarted) {
      out.push('timing (machine, not model)')
      timingStarted = true
    }
    const best = cell.best === null || isTimingMetric(key) ? '' : `${formatNumber(cell.best)} @ ${cell.bestStep}`
    out.push(
      `  ${key.padEnd(24)} ${formatNumber(cell.last).padStart(10)}  ${best.padEnd(16)} ${String(cell.count).padStart(5)}  ${sparkline((Object.hasOwn(r.curves, key) ? r.curves[key]! : []).map(([, value]) => value))}`,
    )
  }
  const overridden = new Set(r.provenance?.overriddenParams ?? [])
  const nonDefault = new Set(r.provenance?.nonDefaultParams ?? [])
  out.push('', r.provenance ? "params (* not the recipe's default; set: by an override)" : 'params')
  for (const [key, value] of Object.entries(r.params)) {
    const mark = r.provenance ? (nonDefault.has(key) ? '* ' : '  ') : ''
    out.push(`  ${mark}${key} = ${JSON.stringify(value)}${overridden.has(key) ? '  (set)' : ''}`)
  }
  out.push(
    '',
    `environment: Python ${String(env.python ?? '?')}, torch ${String(env.torch ?? '?')}, CUDA ${String(env.cuda_version ?? 'none')}, GPUs ${gpus}, git ${git.commit ? `${git.commit.slice(0, 12)}${git.dirty ? ' (dirty)' : ''}` : 'none'}`,
  )
  for (const warning of r.warnings) out.push(`warning: ${warning}`)
  for (const ending of r.endings) {
    const {event, ...fields} = ending
    out.push(
      `${event}: ${Object.entries(fields)
        .map(([key, value]) => `${key} ${typeof value === 'number' ? formatNumber(value) : String(value)}`)
        .join(', ')}`,
    )
  }
  if (r.confusionMatrix) {
    const {labels, matrix} = r.confusionMatrix
    const width = Math.max(4, ...labels.map((l) => l.length), ...matrix.flat().map((n) => String(n).length))
    out.push('', 'confusion matrix (rows: true, columns: predicted)')
    out.push(`  ${''.padStart(width)} ${labels.map((l) => l.padStart(width)).join(' ')}`)
    matrix.forEach((row, i) =>
      out.push(`  ${labels[i]!.padStart(width)} ${row.map((n) => String(n).padStart(width)).join(' ')}`),
    )
  }
  if (r.export) {
    out.push(
      '',
      `export of ${r.export.checkpoint} (step ${r.export.step}), ${r.export.at}, tolerance ${r.export.tolerance}`,
    )
    for (const [name, verdict] of Object.entries(r.export.formats))
      out.push(
        `  ${name.padEnd(12)} ${
          verdict.error
            ? `failed to export: ${verdict.error.split('\n')[0]}`
            : `${verdict.ok ? 'parity ok' : `DIFFERS (largest in ${verdict.worst_output ?? '?'})`}, max abs ${formatNumber(Number(verdict.max_abs))}`
        }`,
      )
  }
  out.push('', 'artifacts')
  for (const artifact of r.artifacts) out.push(`  ${artifact.path} (${artifact.bytes} bytes)`)
  if (r.error) out.push('', 'error', ...r.error.split('\n').map((line) => `  ${line}`))
  else if (r.log.stderr.length > 0) out.push('', 'stderr (end)', ...r.log.stderr.map((line) => `  ${line}`))
  if (r.log.stdout.length > 0) out.push('', 'stdout (end)', ...r.log.stdout.map((line) => `  ${line}`))
  for (const key of charts) {
    if (!Object.hasOwn(r.curves, key)) continue
    out.push(
      '',
      `${key}${r.primary.key === key ? ' (primary)' : ''}`,
      ...lineChart(r.curves[key]!).map((line) => `  ${line}`),
    )
  }
  return out.join('\n')
}

/** How the run was made, as the lines under its header: command, config and overrides, source run, code. */
function provenanceLines(provenance: Provenance | null): string[] {
  if (!provenance) return []
  const {argv, configFile, configSha256, overrides, fromRun, git} = provenance
  const lines = [`made by: ${argv.map(shellWord).join(' ')}`]
  lines.push(
    `config: ${configFile}${configSha256 ? ` (sha256 ${configSha256.slice(0, 12)})` : ''}${
      overrides.length > 0 ? ` · overrides, in order: ${overrides.join(' ')}` : ''
    }`,
  )
  if (fromRun) lines.push(`re-run of: ${fromRun.name} (${fromRun.id})`)
  if (git) {
    const changes = !git.dirty
      ? 'clean'
      : git.patch
        ? `uncommitted changes saved in ${git.patch} (${git.patchBytes} bytes)`
        : `uncommitted changes not saved: ${git.patchSkipped ?? 'unknown'}`
    const untracked = git.untracked.length + git.untrackedMore
    lines.push(
      `code: git ${git.commit.slice(0, 12)}, ${changes}${untracked > 0 ? `; ${untracked} untracked file${untracked === 1 ? '' : 's'} not saved (${git.untracked.slice(0, 3).join(', ')}${untracked > 3 ? ', ...' : ''})` : ''}`,
    )
  }
  return lines
}
