import {Args, Flags} from '@oclif/core'
import {join, relative} from 'node:path'
import type {RunReport} from '../core/compare.js'
import type {Artifact} from '../core/inspect.js'
import {MlxCommand} from './base.js'
import {withRuns} from './open.js'

interface ShowResult extends RunReport {
  /** Each metric's values in step order (what the sparklines and charts draw). */
  curves: Record<string, Array<[number, number | null]>>
  config: Record<string, unknown>
  environment: Record<string, unknown> | null
  artifacts: Artifact[]
  /** The recipe's analysis of the last attempt, when it ran: the validation confusion matrix. */
  confusionMatrix: {labels: string[]; matrix: number[][]} | null
  /** Events that explain how the run ended (early_stop, interrupted, diverged), latest first. */
  endings: Array<{event: string} & Record<string, unknown>>
  log: {stdout: string[]; stderr: string[]}
}

export default class Show extends MlxCommand {
  static override summary = 'Show one run: status, summary metrics, config, environment, artifacts, the end of its logs.'
  static override examples = ['<%= config.bin %> show 3fa9', '<%= config.bin %> show digits-cnn --json']
  static override args = {
    run: Args.string({description: 'run id, unique id prefix, or name (the latest run of that name)', required: true}),
  }
  static override flags = {
    lines: Flags.integer({description: 'log lines to show', default: 10, min: 0}),
    chart: Flags.string({description: "metric to draw as a line chart; repeatable (default: the run's primary metric)", multiple: true}),
  }

  async run(): Promise<ShowResult> {
    const {args, flags} = await this.parse(Show)
    const [{runReport}, {listArtifacts, readJsonFile, tailLines}, {formatNumber}] = await Promise.all([import('../core/compare.js'), import('../core/inspect.js'), import('../core/numbers.js')])
    const {root, result} = await withRuns(({project, store}) => {
      const run = store.resolveRun(args.run)
      const events = store.events(run.id, true)
      const matrix = events.findLast((event) => event.event === 'confusion_matrix')?.data
      // Metric names are whatever the script logged (`__proto__` too): gathered in a Map.
      const curves = new Map<string, Array<[number, number | null]>>()
      for (const row of store.metrics(run.id)) {
        if (!curves.has(row.key)) curves.set(row.key, [])
        curves.get(row.key)!.push([row.step, row.value])
      }
      const result: ShowResult = {
        ...runReport(run, store.summaries([run.id]).get(run.id) ?? [], events),
        curves: Object.fromEntries(curves),
        config: run.config,
        environment: readJsonFile(join(run.runDir, 'env.json')),
        artifacts: listArtifacts(run.runDir),
        confusionMatrix: matrix ? {labels: matrix.labels as string[], matrix: matrix.matrix as number[][]} : null,
        endings: events
          .filter((event) => ['early_stop', 'interrupted', 'diverged'].includes(event.event))
          .reverse()
          .map((event) => ({event: event.event, ...event.data})),
        log: {stdout: tailLines(join(run.runDir, 'stdout.log'), flags.lines), stderr: tailLines(join(run.runDir, 'stderr.log'), flags.lines)},
      }
      return {root: project.root, result}
    })
    if (!this.jsonEnabled()) {
      const {lineChart, sparkline} = await import('../core/charts.js')
      this.log(this.describe(result, root, sparkline, formatNumber))
      for (const key of flags.chart ?? [result.primary.key]) {
        if (!Object.hasOwn(result.curves, key)) continue
        this.log(['', `${key}${result.primary.key === key ? ' (primary)' : ''}`, ...lineChart(result.curves[key]!).map((line) => `  ${line}`)].join('\n'))
      }
    }
    return result
  }

  private describe(r: ShowResult, root: string, sparkline: (values: Array<number | null>) => string, formatNumber: (value: number | null | undefined) => string): string {
    const env = r.environment ?? {}
    const git = (env.git ?? {}) as {commit?: string | null; dirty?: boolean | null}
    const gpus = Array.isArray(env.gpus) && env.gpus.length > 0 ? (env.gpus as Array<{name: string}>).map((g) => g.name).join(', ') : 'none'
    const out = [
      `${r.name} (${r.id}) · ${r.task} · ${r.status}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ''}`,
      `started ${r.startedAt}${r.endedAt ? ` · ended ${r.endedAt}` : ''} · ${relative(root, r.runDir) || r.runDir}`,
      ...(r.launch.launcher === 'local' ? [] : [`${r.launch.launcher}: ${r.launch.worldSize} process${r.launch.worldSize === 1 ? '' : 'es'} on ${r.launch.nodes} node${r.launch.nodes === 1 ? '' : 's'}`]),
      '',
      'metrics (last, best @ step, count, curve)',
    ]
    for (const [key, cell] of Object.entries(r.metrics)) {
        const best = cell.best === null ? '' : `${formatNumber(cell.best)} @ ${cell.bestStep}`
      out.push(`  ${key.padEnd(24)} ${formatNumber(cell.last).padStart(10)}  ${best.padEnd(16)} ${String(cell.count).padStart(5)}  ${sparkline((Object.hasOwn(r.curves, key) ? r.curves[key]! : []).map(([, value]) => value))}`)
    }
    out.push('', 'params')
    for (const [key, value] of Object.entries(r.params)) out.push(`  ${key} = ${JSON.stringify(value)}`)
    out.push('', `environment: Python ${String(env.python ?? '?')}, torch ${String(env.torch ?? '?')}, CUDA ${String(env.cuda_version ?? 'none')}, GPUs ${gpus}, git ${git.commit ? `${git.commit.slice(0, 12)}${git.dirty ? ' (dirty)' : ''}` : 'none'}`)
    for (const warning of r.warnings) out.push(`warning: ${warning}`)
    for (const ending of r.endings) {
      const {event, ...fields} = ending
      out.push(`${event}: ${Object.entries(fields).map(([key, value]) => `${key} ${typeof value === 'number' ? formatNumber(value) : String(value)}`).join(', ')}`)
    }
    if (r.confusionMatrix) {
      const {labels, matrix} = r.confusionMatrix
      const width = Math.max(4, ...labels.map((l) => l.length), ...matrix.flat().map((n) => String(n).length))
      out.push('', 'confusion matrix (rows: true, columns: predicted)')
      out.push(`  ${''.padStart(width)} ${labels.map((l) => l.padStart(width)).join(' ')}`)
      matrix.forEach((row, i) => out.push(`  ${labels[i]!.padStart(width)} ${row.map((n) => String(n).padStart(width)).join(' ')}`))
    }
    out.push('', 'artifacts')
    for (const artifact of r.artifacts) out.push(`  ${artifact.path} (${artifact.bytes} bytes)`)
    if (r.error) out.push('', 'error', ...r.error.split('\n').map((line) => `  ${line}`))
    else if (r.log.stderr.length > 0) out.push('', 'stderr (end)', ...r.log.stderr.map((line) => `  ${line}`))
    if (r.log.stdout.length > 0) out.push('', 'stdout (end)', ...r.log.stdout.map((line) => `  ${line}`))
    return out.join('\n')
  }
}
