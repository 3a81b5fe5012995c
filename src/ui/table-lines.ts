/**
 * A table as lines of styled segments: the one layout that the ink component (live and
 * scrolled views) and the plain printer (a table drawn once) both draw, so the two cannot
 * drift apart. No ink, no React: printing a table loads neither.
 */
import {cellText, columnWidths, COLUMN_GAP, displayWidth, leftOutLine, type Table} from '../core/report/format.js'
import {statusColor, theme, type Colour} from './theme.js'

export interface Segment {
  text: string
  color?: Colour
  bold?: boolean
  inverse?: boolean
}

export type Line = Segment[]

const GAP = ' '.repeat(COLUMN_GAP)

function pad(text: string, size: number, align: 'left' | 'right' = 'left'): string {
  const fill = ' '.repeat(Math.max(0, size - displayWidth(text)))
  return align === 'right' ? fill + text : text + fill
}

/** Characters in the widest line of the table. */
export function tableWidth(table: Table): number {
  const widths = columnWidths(table)
  return widths.reduce((sum, w) => sum + w, 0) + GAP.length * Math.max(0, widths.length - 1)
}

/**
 * The header line (its segments are drawn bold in the header colour) and one line per row:
 * columns padded to `widths` (a scrolled window keeps the whole table's), best values marked
 * and coloured, statuses coloured, the header under `cursorColumn` inverted.
 */
export function tableLines(
  table: Table,
  widths: number[] = columnWidths(table),
  cursorColumn?: number,
): {header: Line; rows: Line[]} {
  const alignOf = (column: number) => table.rows[0]?.[column]?.align ?? 'left'
  const last = table.headers.length - 1
  const header = table.headers.map((text, column): Segment => ({
    text: pad(text, widths[column]!, alignOf(column)) + (column < last ? GAP : ''),
    ...(column === cursorColumn ? {inverse: true} : {}),
  }))
  const rows = table.rows.map((row) =>
    row.map((cell, column): Segment => {
      const color = cell.best ? theme.best : cell.status ? statusColor(cell.status) : undefined
      return {
        text: pad(cellText(cell), widths[column]!, cell.align) + (column < row.length - 1 ? GAP : ''),
        ...(color ? {color} : {}),
        ...(cell.best ? {bold: true} : {}),
      }
    }),
  )
  return {header, rows}
}

/** Words moved to the next line where the text would pass `width`; a word longer than a line is broken. */
function wrapWords(text: string, width: number): string[] {
  const lines: string[] = []
  let current = ''
  for (const word of text.split(' ')) {
    const candidate = current ? `${current} ${word}` : word
    if (displayWidth(candidate) <= width) {
      current = candidate
      continue
    }
    if (current) lines.push(current)
    current = word
    while (displayWidth(current) > width) {
      let head = ''
      for (const character of current) {
        if (displayWidth(head + character) > width) break
        head += character
      }
      lines.push(head)
      current = current.slice(head.length)
    }
  }
  lines.push(current)
  return lines
}

/**
 * The lines under a table: its legend, then which columns fitting it left out; wrapped at
 * spaces to `width` when there is one (both views wrap here, not in ink, so they agree).
 */
export function noteLines(table: Table, legend: string, width?: number): string[] {
  const notes = [legend, leftOutLine(table)].filter(Boolean).flatMap((text) => text.split('\n'))
  return width === undefined ? notes : notes.flatMap((text) => wrapWords(text, width))
}
