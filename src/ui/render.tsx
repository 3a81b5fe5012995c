/**
 * The render facade: the only module the commands call for terminal UI. Commands import
 * it lazily, so ink and React load only when a view is drawn.
 */
import './no-color.js'
import {render} from 'ink'
import {fitTable, type Table} from '../core/format.js'
import type {Progress} from '../core/metrics/progress.js'
import {BrowseTable} from './components/BrowseTable.js'
import {CompareTable, tableWidth} from './components/CompareTable.js'
import {RunProgress, type RunHeader} from './components/RunProgress.js'

/**
 * A file or pipe has no width: ink would lay the table out in 80 columns and cut it.
 * Give such a stream the table's own width instead.
 */
function sizedForPipe(stream: NodeJS.WriteStream, columns: number): NodeJS.WriteStream {
  if (stream.isTTY) return stream
  return new Proxy(stream, {
    get: (target, property) => (property === 'columns' ? columns : Reflect.get(target, property, target)),
  })
}

/** Draws a table once on `stream` and returns when it is written. A terminal gets it cut to its width. */
export async function renderTable(table: Table, legend: string, stream: NodeJS.WriteStream = process.stdout): Promise<void> {
  const shown = stream.isTTY ? fitTable(table, stream.columns ?? 80) : table
  const columns = Math.max(legend.length, tableWidth(shown)) + 1
  const instance = render(<CompareTable table={shown} legend={legend} />, {stdout: sizedForPipe(stream, columns), patchConsole: false, exitOnCtrlC: false})
  instance.unmount()
  await instance.waitUntilExit()
}

/** A table too tall for the terminal, to scroll and sort; returns when the user quits (q). */
export async function browseTable(table: Table, legend: string, stream: NodeJS.WriteStream = process.stdout): Promise<void> {
  const height = Math.max(3, (stream.rows ?? 24) - 4)
  const instance = render(<BrowseTable table={fitTable(table, stream.columns ?? 80)} legend={legend} height={height} />, {stdout: stream, patchConsole: false, exitOnCtrlC: true})
  await instance.waitUntilExit()
}

/** Whether a table needs browsing: a terminal on both ends, and more rows than fit. */
export function tooTallForTerminal(table: Table, stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY && process.stdin.isTTY && table.rows.length > (stream.rows ?? 24) - 4)
}

export interface TableView {
  update(table: Table, legend: string): void
  finish(): Promise<void>
}

/** A table redrawn in place (mlx compare --watch), fitted to the terminal at each draw. */
export function startTableView(table: Table, legend: string, stream: NodeJS.WriteStream = process.stdout): TableView {
  const fitted = (t: Table) => fitTable(t, stream.columns ?? 80)
  const instance = render(<CompareTable table={fitted(table)} legend={legend} />, {stdout: stream, patchConsole: false, exitOnCtrlC: false})
  return {
    update(next, nextLegend) {
      instance.rerender(<CompareTable table={fitted(next)} legend={nextLegend} />)
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
export function startRunView(header: RunHeader, initial: Progress, stream: NodeJS.WriteStream = process.stderr): RunView {
  const instance = render(<RunProgress header={header} progress={initial} />, {stdout: stream, patchConsole: false, exitOnCtrlC: false})
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
