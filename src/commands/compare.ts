import {Args, Flags} from '@oclif/core'
import type {Comparison} from '../core/report/compare.js'
import type {SweepComparison} from '../core/sweep/report.js'
import {TIE_RULE} from '../core/report/tie-rule.js'
import {UserError} from '../core/errors.js'
import type {RunStatus} from '../core/store/status.js'
import {MlxCommand, runSelectionFlags} from '../base-command.js'
import {withRuns} from '../core/store/with-runs.js'

export const DEFAULT_LAST = 20

export default class Compare extends MlxCommand {
  static override summary =
    'Compare runs: the params that differ, the key metrics (last and best), the best value in each column marked.'
  static override description = `Without RUN arguments, compares the latest ${DEFAULT_LAST} runs (or --last N), newest first as mlx runs lists them; --sort orders them by a field. A RUN is a run id, a unique prefix of one, or a run name.

Columns: run, name, the primary metric, the params that differ (by their shortest unambiguous suffix; the legend gives the full keys), the other key metrics, status, duration. The best value of each metric is marked with * (lower is better for losses and errors, higher for accuracy, F1, AUC...). The line under the table names the best run on the primary metric (or the first --metric); ${TIE_RULE}.

In a terminal narrower than the table, what tells least gives way first (columns equal for every run, duration, status, the other metrics, then params from the right); run ids and names are never cut below what tells them apart, and a line says which columns were left out. A table taller than the terminal opens a view that scrolls, pans sideways and sorts (s: best first on a metric).`
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
    last: Flags.integer({
      char: 'l',
      description: `compare the latest N runs (default ${DEFAULT_LAST} when no RUN is given)`,
      min: 1,
    }),
    metric: Flags.string({
      char: 'm',
      description: "metric column(s) to show (default: the recipe's key metrics)",
      multiple: true,
    }),
    format: Flags.string({
      char: 'f',
      description: 'output format',
      options: ['table', 'json', 'csv', 'markdown'],
      default: 'table',
    }),
    ...runSelectionFlags,
    params: Flags.string({
      description: 'param columns to show (comma-separated), instead of those that differ',
      exclusive: ['all-params'],
    }),
    'all-params': Flags.boolean({description: 'show every param, not only those that differ'}),
    watch: Flags.boolean({description: 'redraw the table while shown runs are running (in a terminal)'}),
    sweep: Flags.string({
      description:
        "compare a sweep's trials by configuration: the objective's mean ± std over seeds and folds, cost, rank, the best and whether it beats the runner-up beyond noise (Welch's t-test)",
      exclusive: ['last', 'where', 'watch', 'params', 'all-params', 'metric'],
    }),
  }

  async run(): Promise<Comparison['runs'] | SweepComparison | undefined> {
    const {argv, flags} = await this.parse(Compare)
    if (flags.sweep !== undefined) return this.compareSweep(flags.sweep, flags.format)
    const {selectComparison, paramColumns} = await import('../core/report/select.js')
    const params = paramColumns(flags['all-params'], flags.params)
    const request = {
      refs: argv as string[],
      last: flags.last ?? DEFAULT_LAST,
      where: flags.where,
      sort: flags.sort,
      status: flags.status as RunStatus[] | undefined,
      tags: flags.tag,
      metrics: flags.metric,
      params,
    }
    if (flags.watch) {
      if (!process.stdout.isTTY || flags.format !== 'table' || this.jsonEnabled())
        throw new UserError('--watch redraws a table in a terminal', 'run it in a terminal, without --format or --json')
      await (await import('../ui/compare-view.js')).watchComparison((store) => selectComparison(store, request), params)
      return undefined
    }
    const selection = await withRuns(({store}) => selectComparison(store, request))
    const {runs} = selection.comparison
    const format = this.jsonEnabled() ? 'json' : (flags.format as 'json' | 'table' | 'csv' | 'markdown')
    if (format === 'json') {
      if (!this.jsonEnabled()) this.log(JSON.stringify(runs, null, 2))
      return runs
    }
    const view = await import('../ui/compare-view.js')
    if (format === 'table' && runs.length === 0) this.say('no runs yet: `mlx run CONFIG` starts one')
    else await view.printComparison(selection, format, params)
    return undefined
  }

  private async compareSweep(name: string, format: string): Promise<SweepComparison | undefined> {
    const [{compareSweep, sweepTable}, {printWidth}] = await Promise.all([
      import('../core/sweep/report.js'),
      import('../ui/terminal.js'),
    ])
    const comparison = await withRuns(({store}) => compareSweep(store, name))
    if (this.jsonEnabled()) return comparison
    if (format === 'json') this.log(JSON.stringify(comparison, null, 2))
    else if (format === 'table') for (const line of sweepTable(comparison, printWidth())) this.log(line)
    else throw new UserError(`--sweep prints a table or JSON, not ${format}`, 'use --format table or json (or --json)')
    return undefined
  }
}
