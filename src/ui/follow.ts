/**
 * What `mlx run` and `mlx resume` share once a run is launched: the progress view (ink in
 * a terminal, plain lines otherwise), Ctrl-C forwarding, the summary, and the exit code of
 * the contract for how the run ended.
 */
import {join, relative} from 'node:path'
import {runReport, type RunReport} from '../core/report/run-report.js'
import {ExitCode, RunEndedError} from '../core/errors.js'
import {formatDuration, formatNumber} from '../core/report/numbers.js'
import {headlineText, initialProgress, type Progress} from '../core/metrics/progress.js'
import type {IndexProblem} from '../core/run/indexer.js'
import type {RunHandle, RunObserver} from '../core/run/run.js'
import type {RunRecord, Store, StoredEvent} from '../core/store/store.js'
import {isTimingMetric} from '../core/metrics/goal.js'

/** A run observer that may hold a view to close when the run ends. */
export type Observer = RunObserver & {close?(): Promise<void>}

/** Plain progress lines (stderr is not a terminal): on a new epoch at most every 2 s, else every 15 s. */
export function plainObserver(say: (line: string) => void): Observer {
  let warningsSaid = 0
  let lastEpoch = -1
  let lastLine = 0
  let lastPrinted: Progress | undefined
  const print = (progress: Progress, run: RunRecord) => {
    lastEpoch = progress.epoch
    lastLine = Date.now()
    lastPrinted = progress
    const metrics = headlineText(progress, formatNumber)
      .map((text) => ` · ${text}`)
      .join('')
    const steps = progress.totalSteps ? `${progress.step}/${progress.totalSteps}` : String(progress.step)
    const eta = progress.eta === null ? '' : ` · ETA ${formatDuration(progress.eta)}`
    say(
      `[${run.name}] epoch ${progress.epoch}/${progress.epochs ?? '?'} · ${progress.units.step} ${steps} · ${formatDuration(progress.elapsed)}${eta}${metrics}`,
    )
  }
  return {
    onStart(run, python) {
      say(`run ${run.id} (${run.name}) started: ${python.command} (${python.reason})`)
    },
    onLaunchState(state, run) {
      say(`[${run.name}] Slurm job ${run.jobId}: ${state.state}${state.reason ? ` (${state.reason})` : ''}`)
    },
    onProgress(progress, run) {
      for (const warning of progress.warnings.slice(warningsSaid)) say(`[${run.name}] warning: ${warning}`)
      warningsSaid = progress.warnings.length
      const quiet = Date.now() - lastLine
      if (quiet < 2_000 || (progress.epoch === lastEpoch && quiet < 15_000)) return
      print(progress, run)
    },
    onEnd(progress, run) {
      if (progress !== lastPrinted && progress.step > 0) print(progress, run)
    },
  }
}

/** The ink view, drawn on stderr; ink loads only here. */
export async function liveObserver(): Promise<Observer> {
  const {startRunView} = await import('./render.js')
  let view: ReturnType<typeof startRunView> | undefined
  return {
    onStart(run, python) {
      view = startRunView(
        {id: run.id, name: run.name, task: run.task, python: python.command},
        initialProgress({key: run.primaryMetric, goal: run.primaryGoal}),
      )
    },
    onProgress(progress) {
      view?.update(progress)
    },
    async close() {
      await view?.finish()
    },
  }
}

export async function chooseObserver(say: (line: string) => void): Promise<Observer> {
  return process.stderr.isTTY ? liveObserver() : plainObserver(say)
}

/** Lets a started run go on without mlx, and says how to follow and stop it. */
export function detachRun(handle: RunHandle, store: Store, say: (line: string) => void): RunReport {
  handle.detach()
  const run = store.getRun(handle.run.id) ?? handle.run
  const job = run.jobId ? ` (Slurm job ${run.jobId})` : ''
  say(
    `run ${run.id} detached${job}: mlx runs, mlx show ${run.id} and mlx logs ${run.id} -f follow it; mlx stop ${run.id} stops it`,
  )
  return runReport(run, [])
}

/** Waits for the run with Ctrl-C (and SIGTERM, SIGHUP) forwarded to it; returns its final record. */
export async function waitForRun(handle: RunHandle, observer: Observer): Promise<RunRecord> {
  const onSignal = () => handle.interrupt()
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  for (const signal of signals) process.on(signal, onSignal)
  try {
    return await handle.done
  } finally {
    for (const signal of signals) process.off(signal, onSignal)
    await observer.close?.()
  }
}

export function summaryLines(report: RunReport, root: string, events: readonly StoredEvent[] = []): string[] {
  const lines = [`${report.status} ${report.name} (${report.id}) in ${formatDuration(report.durationSeconds)}`]
  // runReport orders the metrics primary first, timing last; timing is left to mlx show.
  const shown = Object.entries(report.metrics).filter(([key]) => !isTimingMetric(key))
  const width = Math.max(0, ...shown.map(([key]) => key.length))
  for (const [key, cell] of shown) {
    const best = cell.best === null ? '' : `  best ${formatNumber(cell.best)} (step ${cell.bestStep})`
    const mark = key === report.primary.key ? '  (primary)' : ''
    lines.push(`  ${key.padEnd(width)}  last ${formatNumber(cell.last)}${best}${mark}`)
  }
  const runDir = relative(root, report.runDir) || report.runDir
  const bestCheckpoint = events.findLast(
    (event) =>
      event.event === 'checkpoint' && typeof event.data.path === 'string' && /(^|\/)best[^/]*$/.test(event.data.path),
  )
  if (bestCheckpoint)
    lines.push(
      `  best checkpoint: ${join(runDir, bestCheckpoint.data.path as string)}${typeof bestCheckpoint.data.step === 'number' ? ` (step ${bestCheckpoint.data.step})` : ''}`,
    )
  const figures = [
    ...new Set(
      events.flatMap((event) =>
        Array.isArray(event.data.artifacts)
          ? (event.data.artifacts as unknown[]).filter(
              (file): file is string => typeof file === 'string' && /\.(png|svg|html)$/i.test(file),
            )
          : [],
      ),
    ),
  ]
  if (figures.length > 0) lines.push(`  figures: ${figures.map((file) => join(runDir, file)).join(', ')}`)
  lines.push(`  ${runDir} · mlx show ${report.id} · mlx compare`)
  return lines
}

/**
 * The report of a run that has ended, after printing its summary (stdout) and any
 * ingestion warning (stderr). A run that did not complete becomes the typed error that
 * carries its exit code.
 */
/** The exit status of a training script that found its data bad (mlx_runtime.DataError). */
const DATA_ERROR_EXIT = 2

export function endOfRun(
  record: RunRecord,
  ended: {store: Store; indexProblem: IndexProblem | null},
  root: string,
  out: {log(line: string): void; say(line: string): void},
): RunReport {
  const events = ended.store.events(record.id, true)
  const report = runReport(record, ended.store.summaries([record.id]).get(record.id) ?? [], events)
  const {badLines, tornLines, skippedValues, lastProblem} = report.ingest
  if (badLines + tornLines + skippedValues > 0) {
    out.say(
      `warning: metrics.jsonl: ${badLines} bad and ${tornLines} torn lines, ${skippedValues} non-numeric values skipped (last: ${lastProblem})`,
    )
  }
  const problem = ended.indexProblem
  if (problem) {
    const runDir = relative(root, record.runDir) || record.runDir
    out.say(
      `warning: ${problem.message}\n` +
        `  the run was followed to its end all the same: every line it logged is in ${join(runDir, 'metrics.jsonl')}` +
        (problem.recorded
          ? `, and how it ended in ${join(runDir, 'run.json')}`
          : `; how it ended could not be written (${join(runDir, 'run.json')} was refused too)`) +
        `\nhint: once the index can be written again (mlx store rebuild if it is damaged), the next mlx command indexes the run from its files`,
    )
  }
  out.log(summaryLines(report, root, events).join('\n'))
  switch (report.status) {
    case 'completed':
      return report
    case 'failed':
      // Exit status 2 is the recipes' bad-input status (a DataError: a missing column, a ragged row...).
      if (report.exitCode === DATA_ERROR_EXIT) {
        // The script's own lines (error: FILE:LINE: ..., hint: ...) say it all; drop mlx's "exit code 2" line above them.
        const said = (report.error ?? '').split('\n').slice(1).join('\n')
        throw new RunEndedError(`run ${report.id} stopped on bad input data\n${said}`, ExitCode.badInput, report)
      }
      throw new RunEndedError(`run ${report.id} failed: ${report.error ?? 'unknown error'}`, ExitCode.failed, report)
    case 'diverged':
      throw new RunEndedError(`run ${report.id} diverged: ${report.error ?? ''}`, ExitCode.failed, report)
    case 'interrupted':
      throw new RunEndedError(
        `run ${report.id} interrupted; what it logged is kept (mlx resume ${report.id} continues it)`,
        ExitCode.interrupted,
        report,
      )
    case 'pruned':
      // Only a sweep prunes, and it follows its trials itself: a pruned run is a result, not a failure.
      return report
    case 'running':
      throw new Error(`run ${report.id} is still marked running after its process ended`)
    default: {
      const unreachable: never = report.status
      return unreachable
    }
  }
}
