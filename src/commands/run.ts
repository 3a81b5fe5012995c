import {Args, Flags} from '@oclif/core'
import {relative} from 'node:path'
import {runReport, type RunReport} from '../core/compare.js'
import {ExitCode, RunEndedError} from '../core/errors.js'
import {formatDuration, formatNumber} from '../core/format.js'
import {headlineMetrics, initialProgress, type Progress} from '../core/metrics/progress.js'
import type {RunObserver} from '../core/run/run.js'
import type {RunRecord} from '../core/store/store.js'
import {MlxCommand} from './base.js'

/** A run observer that may hold a view to close when the run ends. */
type Observer = RunObserver & {close?(): Promise<void>}

/** Plain progress lines (stderr is not a terminal): on a new epoch at most every 2 s, else every 15 s. */
function plainObserver(say: (line: string) => void): Observer {
  let lastEpoch = -1
  let lastLine = 0
  let lastPrinted: Progress | undefined
  const print = (progress: Progress, run: RunRecord) => {
    lastEpoch = progress.epoch
    lastLine = Date.now()
    lastPrinted = progress
    const metrics = headlineMetrics(progress.latest)
      .map(([key, value]) => ` · ${key} ${formatNumber(value)}`)
      .join('')
    const steps = progress.totalSteps ? `${progress.step}/${progress.totalSteps}` : String(progress.step)
    const eta = progress.eta === null ? '' : ` · ETA ${formatDuration(progress.eta)}`
    say(`[${run.name}] epoch ${progress.epoch}/${progress.epochs ?? '?'} · step ${steps} · ${formatDuration(progress.elapsed)}${eta}${metrics}`)
  }
  return {
    onStart(run, python) {
      say(`run ${run.id} (${run.name}) started: ${python.command} (${python.reason})`)
    },
    onProgress(progress, run) {
      const quiet = Date.now() - lastLine
      if (quiet < 2_000 || (progress.epoch === lastEpoch && quiet < 15_000)) return
      print(progress, run)
    },
    onEnd(progress, run) {
      if (progress !== lastPrinted && progress.step > 0) print(progress, run)
    },
  }
}

export default class Run extends MlxCommand {
  static override summary = 'Run an experiment: validate the config, generate the script, train, stream metrics into the store.'
  static override description = `Creates a run (id, directory under .mlx/runs/), writes the resolved config, the generated script and env.json, launches the script and ingests its metrics.jsonl while it trains. In a terminal a live view shows progress; otherwise progress lines go to stderr.

Exit codes: 0 completed, 1 the training failed, 2 bad input (no run is created), 130 interrupted (Ctrl-C stops the trainer and keeps what it logged).`
  static override examples = ['<%= config.bin %> run configs/image-classification.yaml', '<%= config.bin %> run configs/image-classification.yaml --set optim.lr=0.01 --name lr-0.01']
  static override args = {
    config: Args.string({description: 'experiment config (YAML)', required: true}),
  }
  static override flags = {
    set: Flags.string({char: 's', description: 'override a config value: KEY.PATH=VALUE (VALUE is YAML); repeatable', multiple: true, default: []}),
    name: Flags.string({char: 'n', description: "the run's name (default: the config's name)"}),
    python: Flags.string({description: 'Python interpreter to train with (default: MLX_PYTHON, mlx.yaml, .venv, mlx\'s own)'}),
    'dry-run': Flags.boolean({description: 'validate and resolve the interpreter; create and launch nothing'}),
  }

  async run(): Promise<RunReport | {dryRun: true; config: unknown; python: unknown; torch: string | null}> {
    const {args, flags} = await this.parse(Run)
    const {openProject} = await import('../core/project.js')
    const project = openProject(process.cwd())
    const options = {configFile: args.config, sets: flags.set, name: flags.name, python: flags.python}
    const {prepareRun, startRun} = await import('../core/run/run.js')

    const prepared = await prepareRun(project, options)
    if (flags['dry-run']) {
      const {config, python, check} = prepared
      this.say(`${args.config}: valid; would train ${config.name} (${config.task}) with ${python.command} (${python.reason}), torch ${check.torch}`)
      return {dryRun: true, config, python, torch: check.torch}
    }

    const {openStore} = await import('../core/store/store.js')
    const store = await openStore(project.storeDir)
    try {
      const observer: Observer = process.stderr.isTTY ? await this.liveObserver() : plainObserver((line) => this.say(line))
      const handle = startRun(project, store, prepared, observer)
      const onSignal = () => handle.interrupt()
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
      process.on('SIGHUP', onSignal)
      let record: RunRecord
      try {
        record = await handle.done
      } finally {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
        process.off('SIGHUP', onSignal)
        await observer.close?.()
      }
      const report = runReport(record, store.summaries([record.id]).get(record.id) ?? [])
      this.printSummary(report, project.root)
      switch (report.status) {
        case 'completed':
          return report
        case 'failed':
          throw new RunEndedError(`run ${report.id} failed: ${report.error ?? 'unknown error'}`, ExitCode.failed, report)
        case 'interrupted':
          throw new RunEndedError(`run ${report.id} interrupted; what it logged is kept`, ExitCode.interrupted, report)
        case 'running':
          throw new Error(`run ${report.id} is still marked running after its process ended`)
        default: {
          const unreachable: never = report.status
          return unreachable
        }
      }
    } finally {
      store.close()
    }
  }

  private async liveObserver(): Promise<Observer> {
    const {startRunView} = await import('../ui/render.js')
    let view: ReturnType<typeof startRunView> | undefined
    let latest: Progress = initialProgress()
    return {
      onStart(run, python) {
        view = startRunView({id: run.id, name: run.name, task: run.task, python: python.command}, latest)
      },
      onProgress(progress) {
        latest = progress
        view?.update(progress)
      },
      async close() {
        await view?.finish()
      },
    }
  }

  private printSummary(report: RunReport, root: string): void {
    const lines = [`${report.status} ${report.name} (${report.id}) in ${formatDuration(report.durationSeconds)}`]
    const width = Math.max(0, ...Object.keys(report.metrics).map((key) => key.length))
    for (const [key, cell] of Object.entries(report.metrics)) {
      if (key.startsWith('perf/')) continue
      const best = cell.best === null ? '' : `  best ${formatNumber(cell.best)} (step ${cell.bestStep})`
      lines.push(`  ${key.padEnd(width)}  last ${formatNumber(cell.last)}${best}`)
    }
    const {badLines, tornLines, skippedValues, lastProblem} = report.ingest
    if (badLines + tornLines + skippedValues > 0) {
      this.say(`warning: metrics.jsonl: ${badLines} bad and ${tornLines} torn lines, ${skippedValues} non-numeric values skipped (last: ${lastProblem})`)
    }
    lines.push(`  ${relative(root, report.runDir) || report.runDir} · mlx show ${report.id} · mlx compare`)
    this.log(lines.join('\n'))
  }
}
