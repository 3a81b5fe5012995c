import {Args, Flags} from '@oclif/core'
import type {Comparison} from '../core/compare.js'
import {UserError} from '../core/errors.js'
import {RUN_STATUSES, type RunStatus} from '../core/store/status.js'
import type {Store} from '../core/store/store.js'
import {MlxCommand} from './base.js'
import {withRuns} from './open.js'

export const DEFAULT_LAST = 20
const WATCH_INTERVAL_MS = 2000

export default class Compare extends MlxCommand {
  static override summary = 'Compare runs: the params that differ, the key metrics (last and best), the best value in each column marked.'
  static override description = `Without RUN arguments, compares the latest ${DEFAULT_LAST} runs (or --last N). A RUN is a run id, a unique prefix of one, or a run name. The best value of each metric is marked with * (lower is better for losses and errors, higher for accuracy, F1, AUC...).`
  static override examples = [
    '<%= config.bin %> compare',
    '<%= config.bin %> compare --last 5 --metric val/acc --format markdown',
    '<%= config.bin %> compare 3fa9 b71c --format json',
    '<%= config.bin %> compare --where "optim.lr < 0.01 and status = completed and val/acc >= 0.9" --sort val/acc',
  ]
  static override strict = false
  static override args = {
    run: Args.string({description: 'runs to compare (id, id prefix or name)'}),
  }
  static override flags = {
    last: Flags.integer({char: 'l', description: `compare the latest N runs (default ${DEFAULT_LAST} when no RUN is given)`, min: 1}),
    metric: Flags.string({char: 'm', description: "metric column(s) to show (default: the recipe's key metrics)", multiple: true}),
    format: Flags.string({char: 'f', description: 'output format', options: ['table', 'json', 'csv', 'markdown'], default: 'table'}),
    where: Flags.string({char: 'w', description: 'keep the runs that match: "optim.lr < 0.01 and status = completed and val/acc >= 0.9" (fields: params, metrics, id, name, task, status, duration, tag)'}),
    sort: Flags.string({description: 'order by a field: KEY, KEY:asc or KEY:desc (metrics: best first by default)'}),
    status: Flags.string({description: 'only runs with this status; repeatable', options: [...RUN_STATUSES], multiple: true}),
    tag: Flags.string({description: 'only runs with this tag; repeatable: all must match', multiple: true}),
    params: Flags.string({description: 'param columns to show (comma-separated), instead of those that differ', exclusive: ['all-params']}),
    'all-params': Flags.boolean({description: 'show every param, not only those that differ'}),
    watch: Flags.boolean({description: 'redraw the table while shown runs are running (in a terminal)'}),
  }

  async run(): Promise<Comparison['runs'] | undefined> {
    const {argv, flags} = await this.parse(Compare)
    const {compareRuns, filterRuns, matchingRunIds, sortRuns, uniquePrefixLength} = await import('../core/compare.js')
    let idLength: number | undefined
    const select = (store: Store): Comparison => {
      const refs = argv as string[]
      const filter = {status: flags.status as RunStatus[] | undefined, tags: flags.tag}
      const last = flags.last ?? DEFAULT_LAST
      // RUN arguments name runs outright; otherwise --where looks at every run, then --last keeps the latest that match.
      let runs = refs.length > 0 ? refs.map((ref) => store.resolveRun(ref)) : flags.where ? store.runsById(matchingRunIds(store, flags.where, filter, last)) : store.listRuns({...filter, limit: last})
      const summaries = store.summaries(runs.map((run) => run.id))
      if (refs.length > 0 && flags.where) runs = filterRuns(runs, summaries, flags.where)
      if (refs.length === 0) runs = runs.reverse()
      if (flags.sort) runs = sortRuns(runs, summaries, flags.sort)
      const paramColumns = flags['all-params'] ? 'all' : flags.params ? flags.params.split(',').map((p) => p.trim()).filter(Boolean) : 'differing'
      idLength = uniquePrefixLength(runs.map((run) => run.id), store.runIds())
      return compareRuns(runs, summaries, flags.metric, paramColumns)
    }
    if (flags.watch) {
      if (!process.stdout.isTTY || flags.format !== 'table' || this.jsonEnabled()) throw new UserError('--watch redraws a table in a terminal', 'run it in a terminal, without --format or --json')
      await this.watch(select, () => idLength)
      return undefined
    }
    const comparison = await withRuns(({store}) => select(store))

    const format = this.jsonEnabled() ? 'json' : flags.format
    switch (format) {
      case 'json':
        if (!this.jsonEnabled()) this.log(JSON.stringify(comparison.runs, null, 2))
        return comparison.runs
      case 'csv': {
        const {comparisonCsv} = await import('../core/format.js')
        process.stdout.write(comparisonCsv(comparison))
        return undefined
      }
      case 'markdown': {
        const {comparisonMarkdown} = await import('../core/format.js')
        process.stdout.write(comparisonMarkdown(comparison))
        return undefined
      }
      default: {
        if (comparison.runs.length === 0) {
          this.say('no runs yet: `mlx run CONFIG` starts one')
          return undefined
        }
        const [{comparisonTable}, {printTable, tooTallForTerminal}] = await Promise.all([import('../core/format.js'), import('../ui/print.js')])
        const table = comparisonTable(comparison, idLength)
        // In a terminal with more rows than fit: scroll and sort interactively (ink loads only then).
        if (tooTallForTerminal(table)) await (await import('../ui/render.js')).browseTable(table, this.legend(comparison, flags))
        else printTable(table, this.legend(comparison, flags))
        return undefined
      }
    }
  }

  private legend(comparison: Comparison, flags: {params?: string; 'all-params': boolean}): string {
    const goals = comparison.metrics.filter((m) => m.goal).map((m) => `${m.key} ${m.goal === 'max' ? 'higher' : 'lower'}`)
    const shown = flags['all-params'] ? 'all' : flags.params ? 'those named' : 'those that differ'
    return `* best in column${goals.length ? ` (${goals.join(', ')} is better)` : ''}${comparison.runs.length > 1 ? `; params shown: ${shown}` : ''}`
  }

  /** Redraws the table every 2 s while any shown run is running; Ctrl-C stops watching. */
  private async watch(select: (store: Store) => Comparison, idLength: () => number | undefined): Promise<void> {
    const {flags} = await this.parse(Compare)
    const [{comparisonTable}, {startTableView}, {reconcileRuns}] = await Promise.all([import('../core/format.js'), import('../ui/render.js'), import('../core/run/reconcile.js')])
    let stopped = false
    const stop = () => {
      stopped = true
    }
    process.once('SIGINT', stop)
    await withRuns(async ({store}) => {
      let comparison = select(store)
      const view = startTableView(comparisonTable(comparison, idLength()), this.legend(comparison, flags))
      try {
        while (!stopped && comparison.runs.some((run) => run.status === 'running')) {
          await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS))
          reconcileRuns(store)
          comparison = select(store)
          view.update(comparisonTable(comparison, idLength()), `${this.legend(comparison, flags)} · watching; Ctrl-C stops`)
        }
      } finally {
        process.off('SIGINT', stop)
        await view.finish()
      }
    })
  }
}
