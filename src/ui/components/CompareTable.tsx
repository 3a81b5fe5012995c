import {Box, Text} from 'ink'
import {columnWidths, type Table} from '../../core/report/format.js'
import {tableLines} from '../table-lines.js'
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
}: {
  table: Table
  legend?: string
  widths?: number[]
  cursorColumn?: number
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
      {legend ? <Text color={theme.muted}>{legend}</Text> : null}
    </Box>
  )
}
