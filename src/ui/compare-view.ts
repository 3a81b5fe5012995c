/** The comparison table in a terminal: printed, browsed when taller than the screen, or redrawn while runs train. */
import type {Comparison, ParamColumns} from '../core/report/compare.js'
import type {Store} from '../core/store/store.js'
import {withRuns} from '../core/store/with-runs.js'

const WATCH_INTERVAL_MS = 2000

type Selection = {comparison: Comparison; idLength: number}

/** The comparison as CSV or Markdown on stdout, or as a table (showComparison). */
export async function printComparison(
  selection: Selection,
  format: 'table' | 'csv' | 'markdown',
  params: ParamColumns,
): Promise<void> {
  if (format === 'table') return showComparison(selection, params)
  const {comparisonCsv, comparisonMarkdown} = await import('../core/report/format.js')
  process.stdout.write(
    format === 'csv' ? comparisonCsv(selection.comparison) : comparisonMarkdown(selection.comparison),
  )
}

/** Prints the table, or in a terminal with more rows than fit, scrolls and sorts it interactively (ink loads only then). */
export async function showComparison({comparison, idLength}: Selection, params: ParamColumns): Promise<void> {
  const [{comparisonTable, comparisonLegend}, {printTable, tooTallForTerminal}] = await Promise.all([
    import('../core/report/format.js'),
    import('./print.js'),
  ])
  const table = comparisonTable(comparison, idLength)
  const legend = comparisonLegend(comparison, params, idLength)
  if (tooTallForTerminal(table)) await (await import('./render.js')).browseTable(table, legend)
  else printTable(table, legend)
}

/** Redraws the table every 2 s while any shown run is running; Ctrl-C stops watching. */
export async function watchComparison(select: (store: Store) => Selection, params: ParamColumns): Promise<void> {
  const [{comparisonTable, comparisonLegend}, {startTableView}, {reconcileRuns}] = await Promise.all([
    import('../core/report/format.js'),
    import('./render.js'),
    import('../core/run/reconcile.js'),
  ])
  let stopped = false
  const stop = () => {
    stopped = true
  }
  process.once('SIGINT', stop)
  await withRuns(async ({store}) => {
    let {comparison, idLength} = select(store)
    const view = startTableView(comparisonTable(comparison, idLength), comparisonLegend(comparison, params, idLength))
    try {
      while (!stopped && comparison.runs.some((run) => run.status === 'running')) {
        await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS))
        reconcileRuns(store)
        ;({comparison, idLength} = select(store))
        view.update(
          comparisonTable(comparison, idLength),
          `${comparisonLegend(comparison, params, idLength)} · watching; Ctrl-C stops`,
        )
      }
    } finally {
      process.off('SIGINT', stop)
      await view.finish()
    }
  })
}
