import {Box, Text} from 'ink'
import {cellText, columnWidths, COLUMN_GAP, displayWidth, type Table} from '../../core/format.js'
import {statusColor, theme} from '../theme.js'

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
 * One <Text> per row (fast even at hundreds of rows); best values marked and coloured.
 * `widths` keeps the columns of a scrolled window as wide as the whole table's;
 * `cursorColumn` shows the header under the cursor inverted.
 */
export function CompareTable({table, legend, widths = columnWidths(table), cursorColumn}: {table: Table; legend?: string; widths?: number[]; cursorColumn?: number}) {
  const alignOf = (column: number) => table.rows[0]?.[column]?.align ?? 'left'
  return (
    <Box flexDirection="column">
      <Text bold color={theme.header} wrap="truncate-end">
        {table.headers.map((header, column) => (
          <Text key={column} inverse={column === cursorColumn}>
            {pad(header, widths[column]!, alignOf(column)) + (column < table.headers.length - 1 ? GAP : '')}
          </Text>
        ))}
      </Text>
      {table.rows.map((row, index) => (
        <Text key={index} wrap="truncate-end">
          {row.map((cell, column) => (
            <Text key={column} color={cell.best ? theme.best : cell.status ? statusColor(cell.status) : undefined} bold={cell.best}>
              {pad(cellText(cell), widths[column]!, cell.align) + (column < row.length - 1 ? GAP : '')}
            </Text>
          ))}
        </Text>
      ))}
      {legend ? <Text color={theme.muted}>{legend}</Text> : null}
    </Box>
  )
}
