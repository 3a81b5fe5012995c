import {Box, Text, useApp, useInput} from 'ink'
import {useState} from 'react'
import {columnWidths, type Table, type TableCell} from '../../core/report/format.js'
import {compareSortValues} from '../../core/report/sort.js'
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

/**
 * A table taller than the terminal: ↑/↓ (j/k) and PgUp/PgDn scroll, ←/→ (h/l) move the
 * column cursor, s sorts by the column under it (again: the other way), q quits.
 */
export function BrowseTable({table, legend, height}: {table: Table; legend: string; height: number}) {
  const {exit} = useApp()
  const [top, setTop] = useState(0)
  const [column, setColumn] = useState(0)
  const [sort, setSort] = useState<SortState | null>(null)
  const rows = sortRows(table.rows, sort)
  const visible = Math.max(1, height)
  const lastTop = Math.max(0, rows.length - visible)

  useInput((input, key) => {
    if (key.downArrow || input === 'j') setTop((t) => Math.min(lastTop, t + 1))
    else if (key.upArrow || input === 'k') setTop((t) => Math.max(0, t - 1))
    else if (key.pageDown || input === ' ') setTop((t) => Math.min(lastTop, t + visible))
    else if (key.pageUp) setTop((t) => Math.max(0, t - visible))
    else if (key.rightArrow || input === 'l') setColumn((c) => Math.min(table.headers.length - 1, c + 1))
    else if (key.leftArrow || input === 'h') setColumn((c) => Math.max(0, c - 1))
    else if (input === 's')
      setSort((s) => (s && s.column === column ? {column, descending: !s.descending} : {column, descending: false}))
    else if (input === 'q' || key.escape || key.return) exit()
  })

  const sorted = sort ? ` · sorted by ${table.headers[sort.column]} ${sort.descending ? '↓' : '↑'}` : ''
  return (
    <Box flexDirection="column">
      <CompareTable
        table={{...table, rows: rows.slice(top, top + visible)}}
        widths={columnWidths(table)}
        cursorColumn={column}
      />
      <Text color={theme.muted} wrap="truncate-end">
        rows {rows.length === 0 ? 0 : top + 1}–{Math.min(rows.length, top + visible)} of {rows.length}
        {sorted} · ↑↓ scroll · ←→ column · s sort · q quit
      </Text>
      <Text color={theme.muted}>{legend}</Text>
    </Box>
  )
}
