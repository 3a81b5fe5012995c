/**
 * Turning a comparison into a table of text cells, and that table into CSV or
 * Markdown. The ink table (src/ui) renders the same cells, so every format shows the
 * same columns.
 */
import stringWidth from 'string-width'
import {formatDuration, formatNumber, formatParam} from './numbers.js'
import type {Comparison} from './compare.js'
import type {RunStatus} from '../store/store.js'

export interface TableCell {
  text: string
  /** In a column where a best value is marked: whether this is it. */
  best?: boolean
  /** A status cell, coloured by the UI. */
  status?: RunStatus
  align?: 'left' | 'right'
  /** What the cell sorts by when its text would sort wrong (a duration, a number); null sorts last. */
  sortValue?: number | string | null
}

export interface Table {
  headers: string[]
  rows: TableCell[][]
  /** Columns that may be cut (with an ellipsis) when the table is wider than the terminal: names and params. */
  shrinkable?: boolean[]
  /** Cells a shrinkable column keeps until every other one is down to its narrowest (run names: 16). */
  keepWidth?: number[]
}

/** What a run name keeps while params give way: enough to tell `sweep-12-lr0.01` from `sweep-12-lr0.02`. */
export const NAME_KEEP_WIDTH = 16

/** Terminal cells a text takes (wide characters count two, escape codes none). */
export function displayWidth(text: string): number {
  return stringWidth(text)
}

/** `text` cut to `width` cells, ending in an ellipsis when it was cut. */
export function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text
  let cut = ''
  for (const character of text) {
    if (displayWidth(cut + character) > width - 1) break
    cut += character
  }
  return cut + '…'
}

/** A cell as drawn: a cell that can be best carries a mark, or a space in its place, so a column's numbers align. */
export const BEST_MARK = '*'
export function cellText(cell: TableCell): string {
  if (cell.best === undefined) return cell.text
  return cell.text + (cell.best ? BEST_MARK : ' ')
}

export const COLUMN_GAP = 2
const NARROWEST = 6

/** Each column's width: its widest header or cell. */
export function columnWidths(table: Table): number[] {
  return table.headers.map((header, column) =>
    Math.max(displayWidth(header), ...table.rows.map((row) => displayWidth(cellText(row[column]!)))),
  )
}

/**
 * The table cut to fit `columns` terminal cells: the widest shrinkable column (a name or
 * a param) gives way first, one cell at a time, down to 6 cells, but a column with a
 * `keepWidth` (the run name) stops there until the others are at 6; ids, statuses and
 * metric values are never cut. What still does not fit is cut at the line's end by the
 * renderer, never wrapped.
 */
export function fitTable(table: Table, columns: number): Table {
  const widths = columnWidths(table)
  const total = () => widths.reduce((sum, width) => sum + width, 0) + COLUMN_GAP * Math.max(0, widths.length - 1)
  for (const floorOf of [(column: number) => Math.max(NARROWEST, table.keepWidth?.[column] ?? 0), () => NARROWEST]) {
    while (total() > columns) {
      let widest = -1
      widths.forEach((width, column) => {
        if (table.shrinkable?.[column] && width > floorOf(column) && (widest < 0 || width > widths[widest]!))
          widest = column
      })
      if (widest < 0) break
      widths[widest]!--
    }
  }
  const fit = (text: string, column: number) => (table.shrinkable?.[column] ? truncate(text, widths[column]!) : text)
  // A dotted param name too long for its column keeps its last part whole: optim.lr -> o.lr.
  const fitHeader = (header: string, column: number) => {
    if (!table.shrinkable?.[column] || displayWidth(header) <= widths[column]!) return header
    const parts = header.split('.')
    return fit(
      parts.length > 1 ? [...parts.slice(0, -1).map((part) => part[0]), parts.at(-1)].join('.') : header,
      column,
    )
  }
  return {
    ...table,
    headers: table.headers.map((header, column) => fitHeader(header, column)),
    rows: table.rows.map((row) => row.map((cell, column) => ({...cell, text: fit(cell.text, column)}))),
  }
}

/** The table of a comparison; `idLength` shortens the run ids (to their shortest unique prefix). */
export function comparisonTable(comparison: Comparison, idLength?: number): Table {
  const headers = ['run', 'name', 'status', 'duration', ...comparison.differingParams]
  for (const metric of comparison.metrics) {
    headers.push(metric.goal ? `${metric.key} last` : metric.key)
    if (metric.goal) headers.push(`${metric.key} best`)
  }
  const shrinkable = headers.map(
    (_, column) => column === 1 || (column >= 4 && column < 4 + comparison.differingParams.length),
  )
  const rows = comparison.runs.map((run): TableCell[] => {
    const cells: TableCell[] = [
      {text: idLength ? run.id.slice(0, idLength) : run.id},
      {text: run.name},
      {text: run.status, status: run.status},
      {text: formatDuration(run.durationSeconds), align: 'right', sortValue: run.durationSeconds},
      ...comparison.differingParams.map((key): TableCell => {
        const value = run.params[key]
        return {
          text: formatParam(value),
          sortValue:
            typeof value === 'number' || typeof value === 'string'
              ? value
              : value === undefined
                ? null
                : JSON.stringify(value),
        }
      }),
    ]
    for (const metric of comparison.metrics) {
      const cell = run.metrics[metric.key]
      cells.push({text: formatNumber(cell?.last), align: 'right', sortValue: cell?.last ?? null})
      if (metric.goal)
        cells.push({
          text: formatNumber(cell?.best),
          align: 'right',
          best: metric.bestRunIds.includes(run.id),
          sortValue: cell?.best ?? null,
        })
    }
    return cells
  })
  return {headers, rows, shrinkable, keepWidth: headers.map((_, column) => (column === 1 ? NAME_KEEP_WIDTH : 0))}
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** CSV: plain values, no markers; numbers at full precision so a spreadsheet can compute with them. */
export function comparisonCsv(comparison: Comparison): string {
  const headers = ['id', 'name', 'task', 'status', 'started_at', 'duration_s', ...comparison.differingParams]
  for (const metric of comparison.metrics)
    headers.push(`${metric.key}:last`, `${metric.key}:best`, `${metric.key}:min`, `${metric.key}:max`)
  const lines = [headers.map(csvField).join(',')]
  for (const run of comparison.runs) {
    const fields = [
      run.id,
      run.name,
      run.task,
      run.status,
      run.startedAt,
      run.durationSeconds === null ? '' : run.durationSeconds.toFixed(3),
    ]
    for (const key of comparison.differingParams)
      fields.push(run.params[key] === undefined ? '' : formatParam(run.params[key]))
    for (const metric of comparison.metrics) {
      const cell = run.metrics[metric.key]
      for (const value of [cell?.last, cell?.best, cell?.min, cell?.max])
        fields.push(value === null || value === undefined ? '' : String(value))
    }
    lines.push(fields.map(csvField).join(','))
  }
  return lines.join('\n') + '\n'
}

/**
 * Text as a Markdown table cell that shows as the text itself wherever the Markdown is
 * rendered: no HTML (a run name `<img onerror=...>` stays text), no links, emphasis or code,
 * no column break, one line.
 */
export function markdownText(text: string): string {
  const entities: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;'}
  return text
    .replace(/[&<>]/g, (character) => entities[character]!)
    .replace(/[\\`*_[\]|~]/g, '\\$&')
    .replace(/\r\n|[\r\n]/g, ' ')
}

/** Markdown: the table's cells, best values in bold. */
export function comparisonMarkdown(comparison: Comparison): string {
  const table = comparisonTable(comparison)
  const escape = markdownText
  const lines = [
    `| ${table.headers.map(escape).join(' | ')} |`,
    `| ${table.rows[0]?.map((cell) => (cell.align === 'right' ? '---:' : '---')).join(' | ') ?? table.headers.map(() => '---').join(' | ')} |`,
  ]
  for (const row of table.rows)
    lines.push(`| ${row.map((cell) => (cell.best ? `**${escape(cell.text)}**` : escape(cell.text))).join(' | ')} |`)
  return lines.join('\n') + '\n'
}
