/**
 * The render facade: the only module the commands call for ink views (live, scrolled and
 * redrawn). Commands import it lazily, so ink and React load only when such a view is drawn;
 * a table drawn once is printed without them (print.ts).
 */
import './no-color.js'
import {render} from 'ink'
import {fitTable, type Table} from '../core/report/format.js'
import type {Progress} from '../core/metrics/progress.js'
import {BrowseTable} from './components/BrowseTable.js'
import {CompareTable} from './components/CompareTable.js'
import {RunProgress, type RunHeader} from './components/RunProgress.js'
import {sizedForInk, terminalSize} from './terminal.js'

/** A table too tall for the terminal, to scroll and sort; returns when the user quits (q). */
export async function browseTable(
  table: Table,
  legend: string,
  stream: NodeJS.WriteStream = process.stdout,
): Promise<void> {
  const {columns, rows} = terminalSize(stream)
  const instance = render(
    <BrowseTable
      table={table}
      legend={legend}
      height={Math.max(3, rows - 4 - legend.split('\n').length)}
      width={columns}
    />,
    {stdout: sizedForInk(stream), patchConsole: false, exitOnCtrlC: true},
  )
  await instance.waitUntilExit()
}

export interface TableView {
  update(table: Table, legend: string): void
  finish(): Promise<void>
}

/** A table redrawn in place (mlx compare --watch), fitted to the terminal at each draw. */
export function startTableView(table: Table, legend: string, stream: NodeJS.WriteStream = process.stdout): TableView {
  const width = () => terminalSize(stream).columns
  const fitted = (t: Table) => fitTable(t, width())
  const instance = render(<CompareTable table={fitted(table)} legend={legend} width={width()} />, {
    stdout: sizedForInk(stream),
    patchConsole: false,
    exitOnCtrlC: false,
  })
  return {
    update(next, nextLegend) {
      instance.rerender(<CompareTable table={fitted(next)} legend={nextLegend} width={width()} />)
    },
    async finish() {
      instance.unmount()
      await instance.waitUntilExit()
    },
  }
}

export interface RunView {
  update(progress: Progress): void
  /** Draws the last frame and leaves it on screen. */
  finish(): Promise<void>
}

/** The live view of a training run, drawn on stderr (stdout stays free for --json). */
export function startRunView(
  header: RunHeader,
  initial: Progress,
  stream: NodeJS.WriteStream = process.stderr,
): RunView {
  const instance = render(<RunProgress header={header} progress={initial} />, {
    stdout: sizedForInk(stream),
    patchConsole: false,
    exitOnCtrlC: false,
  })
  return {
    update(progress) {
      instance.rerender(<RunProgress header={header} progress={progress} />)
    },
    async finish() {
      instance.unmount()
      await instance.waitUntilExit()
    },
  }
}
