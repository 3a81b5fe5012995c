import {Box, Text, useApp, useInput} from 'ink'
import {useState} from 'react'
import {COLUMN_GAP, columnWidths, keepColumns, type Table, type TableCell} from '../../core/report/format.js'
import {compareSortValues} from '../../core/report/sort.js'
import {noteLines} from '../table-lines.js'
import {theme} from '../theme.js'
import {CompareTable} from './CompareTable.js'

export interface SortState {
  column: number
  descending: boolean
}

/** Rows ordered by a column: by each cell's sortValue where it has one, else its text; empty cells last. */
export function sortRows(rows: readonly TableCell[][], sort: SortState | null): TableCell[][] {
  if (!sort) return [...rows]
  const key = (cell: TableCell | undefined) => (cell && cell.sortValue !== undefined ? cell.sortValue : cell?.text)
  return [...rows].sort((a, b) => compareSortValues(key(a[sort.column]), key(b[sort.column]), sort.descending))
}

/** The columns drawn when the view is panned to `left`: the frozen ones, then from `left` as many as fit `width`. */
export function panColumns(widths: readonly number[], frozen: number, left: number, width: number): number[] {
  const shown = widths.slice(0, frozen).map((_, column) => column)
  let used = widths.slice(0, frozen).reduce((sum, w) => sum + w + COLUMN_GAP, 0)
  for (let column = Math.max(frozen, left); column < widths.length; column++) {
    if (shown.length > frozen && used + widths[column]! > width) break
    shown.push(column)
    used += widths[column]! + COLUMN_GAP
  }
  return shown
}

/**
 * A table taller than the terminal: ↑/↓ (j/k) and PgUp/PgDn scroll, ←/→ (h/l) move the
 * column cursor and pan sideways past what fits `width` (the run id and name stay), s sorts
 * by the column under it (a metric best first; again: the other way) and goes back to the
 * top, q quits.
 */
export function BrowseTable({
  table,
  legend,
  height,
  width = Infinity,
}: {
  table: Table
  legend: string
  height: number
  width?: number
}) {
  const {exit} = useApp()
  const [top, setTop] = useState(0)
  const [column, setColumn] = useState(0)
  const [left, setLeft] = useState(table.frozen ?? 0)
  const [sort, setSort] = useState<SortState | null>(null)
  const rows = sortRows(table.rows, sort)
  const visible = Math.max(1, height)
  const lastTop = Math.max(0, rows.length - visible)
  const widths = columnWidths(table)
  const frozen = Math.min(table.frozen ?? 0, table.headers.length - 1)
  const shown = panColumns(widths, frozen, left, width)

  const moveTo = (next: number) => {
    const target = Math.max(0, Math.min(table.headers.length - 1, next))
    setColumn(target)
    if (target < frozen) return
    if (target < left) setLeft(target)
    else {
      let start = left
      while (!panColumns(widths, frozen, start, width).includes(target)) start++
      setLeft(start)
    }
  }

  useInput((input, key) => {
    if (key.downArrow || input === 'j') setTop((t) => Math.min(lastTop, t + 1))
    else if (key.upArrow || input === 'k') setTop((t) => Math.max(0, t - 1))
    else if (key.pageDown || input === ' ') setTop((t) => Math.min(lastTop, t + visible))
    else if (key.pageUp) setTop((t) => Math.max(0, t - visible))
    else if (key.rightArrow || input === 'l') moveTo(column + 1)
    else if (key.leftArrow || input === 'h') moveTo(column - 1)
    else if (input === 's') {
      setSort((s) =>
        s && s.column === column
          ? {column, descending: !s.descending}
          : {column, descending: Boolean(table.descendingFirst?.[column])},
      )
      setTop(0)
    } else if (input === 'q' || key.escape || key.return) exit()
  })

  const sorted = sort ? ` · sorted by ${table.headers[sort.column]} ${sort.descending ? '↓' : '↑'}` : ''
  const panned =
    shown.length < table.headers.length
      ? ` · columns ${shown[frozen] === undefined ? '' : `${shown[frozen]! + 1}–${shown.at(-1)! + 1} `}of ${table.headers.length}`
      : ''
  return (
    <Box flexDirection="column">
      <CompareTable
        table={keepColumns({...table, rows: rows.slice(top, top + visible)}, shown)}
        widths={shown.map((c) => widths[c]!)}
        cursorColumn={shown.indexOf(column)}
      />
      <Text color={theme.muted} wrap="truncate-end">
        rows {rows.length === 0 ? 0 : top + 1}–{Math.min(rows.length, top + visible)} of {rows.length}
        {panned}
        {sorted} · ↑↓ scroll · ←→ column · s sort · q quit
      </Text>
      {noteLines(table, legend, Number.isFinite(width) ? width : undefined).map((line, index) => (
        <Text key={`note-${index}`} color={theme.muted}>
          {line}
        </Text>
      ))}
    </Box>
  )
}
