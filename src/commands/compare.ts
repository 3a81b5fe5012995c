import {Args, Flags} from '@oclif/core'
import type {Comparison} from '../core/compare.js'
import {MlxCommand} from './base.js'

export const DEFAULT_LAST = 20

export default class Compare extends MlxCommand {
  static override summary = 'Compare runs: the params that differ, the key metrics (last and best), the best value in each column marked.'
  static override description = `Without RUN arguments, compares the latest ${DEFAULT_LAST} runs (or --last N). A RUN is a run id, a unique prefix of one, or a run name. The best value of each metric is marked with * (lower is better for losses and errors, higher for accuracy, F1, AUC...).`
  static override examples = ['<%= config.bin %> compare', '<%= config.bin %> compare --last 5 --metric val/acc --format markdown', '<%= config.bin %> compare 3fa9 b71c --format json']
  static override strict = false
  static override args = {
    run: Args.string({description: 'runs to compare (id, id prefix or name)'}),
  }
  static override flags = {
    last: Flags.integer({char: 'l', description: `compare the latest N runs (default ${DEFAULT_LAST} when no RUN is given)`, min: 1}),
    metric: Flags.string({char: 'm', description: "metric column(s) to show (default: the recipe's key metrics)", multiple: true}),
    format: Flags.string({char: 'f', description: 'output format', options: ['table', 'json', 'csv', 'markdown'], default: 'table'}),
  }

  async run(): Promise<Comparison['runs'] | undefined> {
    const {argv, flags} = await this.parse(Compare)
    const [{openProject}, {openStore}, {reconcileRuns}, {compareRuns}] = await Promise.all([
      import('../core/project.js'),
      import('../core/store/store.js'),
      import('../core/run/reconcile.js'),
      import('../core/compare.js'),
    ])
    const project = openProject(process.cwd())
    const store = await openStore(project.storeDir)
    let comparison: Comparison
    try {
      reconcileRuns(store)
      const refs = argv as string[]
      const runs = refs.length > 0 ? refs.map((ref) => store.resolveRun(ref)) : store.listRuns({limit: flags.last ?? DEFAULT_LAST}).reverse()
      comparison = compareRuns(runs, store.summaries(runs.map((run) => run.id)), flags.metric)
    } finally {
      store.close()
    }

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
        const [{comparisonTable}, {renderTable}] = await Promise.all([import('../core/format.js'), import('../ui/render.js')])
        const goals = comparison.metrics.filter((m) => m.goal).map((m) => `${m.key} ${m.goal === 'max' ? 'higher' : 'lower'}`)
        const legend = `* best in column${goals.length ? ` (${goals.join(', ')} is better)` : ''}${comparison.runs.length > 1 ? '; params shown: those that differ' : ''}`
        await renderTable(comparisonTable(comparison), legend)
        return undefined
      }
    }
  }
}
