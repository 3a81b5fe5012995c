import {Box, Text} from 'ink'
import {columnWidths, type Table} from '../../core/report/format.js'
import {noteLines, tableLines} from '../table-lines.js'
import {theme} from '../theme.js'

/**
 * One <Text> per row (fast even at hundreds of rows), drawn from the shared layout
 * (table-lines.ts). `widths` keeps the columns of a scrolled window as wide as the whole
 * table's; `cursorColumn` shows the header under the cursor inverted.
 */
export function CompareTable({
  table,
  legend,
  widths = columnWidths(table),
  cursorColumn,
  width,
}: {
  table: Table
  legend?: string
  widths?: number[]
  cursorColumn?: number
  /** The terminal's width, which the notes under the table are wrapped to. */
  width?: number
}) {
  const {header, rows} = tableLines(table, widths, cursorColumn)
  return (
    <Box flexDirection="column">
      <Text bold color={theme.header} wrap="truncate-end">
        {header.map((segment, column) => (
          <Text key={column} inverse={segment.inverse}>
            {segment.text}
          </Text>
        ))}
      </Text>
      {rows.map((line, index) => (
        <Text key={index} wrap="truncate-end">
          {line.map((segment, column) => (
            <Text key={column} color={segment.color} bold={segment.bold}>
              {segment.text}
            </Text>
          ))}
        </Text>
      ))}
      {noteLines(table, legend ?? '', width).map((line, index) => (
        <Text key={`note-${index}`} color={theme.muted}>
          {line}
        </Text>
      ))}
    </Box>
  )
}
