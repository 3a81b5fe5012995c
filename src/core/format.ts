/**
 * Turning a comparison into a table of text cells, and that table into CSV or
 * Markdown. The ink table (src/ui) renders the same cells, so every format shows the
 * same columns.
 */
import type {Comparison} from './compare.js'
import type {RunStatus} from './store/store.js'

export interface TableCell {
  text: string
  /** In a column where a best value is marked: whether this is it. */
  best?: boolean
  /** A status cell, coloured by the UI. */
  status?: RunStatus
  align?: 'left' | 'right'
}

export interface Table {
  headers: string[]
  rows: TableCell[][]
}

export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–'
  if (Number.isNaN(value)) return 'NaN'
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf'
  if (Number.isInteger(value) && Math.abs(value) < 1e9) return String(value)
  const magnitude = Math.abs(value)
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6)) return value.toExponential(2)
  return String(Number(value.toPrecision(4)))
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '–'
  if (seconds < 60) return `${seconds.toFixed(1)}s`
  const s = Math.round(seconds)
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

export function formatParam(value: unknown): string {
  if (value === undefined) return '–'
  if (typeof value === 'string') return value
  return JSON.stringify(value)
}

export function comparisonTable(comparison: Comparison): Table {
  const headers = ['run', 'name', 'status', 'duration', ...comparison.differingParams]
  for (const metric of comparison.metrics) {
    headers.push(metric.goal ? `${metric.key} last` : metric.key)
    if (metric.goal) headers.push(`${metric.key} best`)
  }
  const rows = comparison.runs.map((run): TableCell[] => {
    const cells: TableCell[] = [
      {text: run.id},
      {text: run.name},
      {text: run.status, status: run.status},
      {text: formatDuration(run.durationSeconds), align: 'right'},
      ...comparison.differingParams.map((key): TableCell => ({text: formatParam(run.params[key])})),
    ]
    for (const metric of comparison.metrics) {
      const cell = run.metrics[metric.key]
      cells.push({text: formatNumber(cell?.last), align: 'right'})
      if (metric.goal) cells.push({text: formatNumber(cell?.best), align: 'right', best: metric.bestRunIds.includes(run.id)})
    }
    return cells
  })
  return {headers, rows}
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** CSV: plain values, no markers; numbers at full precision so a spreadsheet can compute with them. */
export function comparisonCsv(comparison: Comparison): string {
  const headers = ['id', 'name', 'task', 'status', 'started_at', 'duration_s', ...comparison.differingParams]
  for (const metric of comparison.metrics) headers.push(`${metric.key}:last`, `${metric.key}:best`, `${metric.key}:min`, `${metric.key}:max`)
  const lines = [headers.map(csvField).join(',')]
  for (const run of comparison.runs) {
    const fields = [run.id, run.name, run.task, run.status, run.startedAt, run.durationSeconds === null ? '' : run.durationSeconds.toFixed(3)]
    for (const key of comparison.differingParams) fields.push(run.params[key] === undefined ? '' : formatParam(run.params[key]))
    for (const metric of comparison.metrics) {
      const cell = run.metrics[metric.key]
      for (const value of [cell?.last, cell?.best, cell?.min, cell?.max]) fields.push(value === null || value === undefined ? '' : String(value))
    }
    lines.push(fields.map(csvField).join(','))
  }
  return lines.join('\n') + '\n'
}

/** Markdown: the table's cells, best values in bold. */
export function comparisonMarkdown(comparison: Comparison): string {
  const table = comparisonTable(comparison)
  const escape = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
  const lines = [
    `| ${table.headers.map(escape).join(' | ')} |`,
    `| ${table.rows[0]?.map((cell) => (cell.align === 'right' ? '---:' : '---')).join(' | ') ?? table.headers.map(() => '---').join(' | ')} |`,
  ]
  for (const row of table.rows) lines.push(`| ${row.map((cell) => (cell.best ? `**${escape(cell.text)}**` : escape(cell.text))).join(' | ')} |`)
  return lines.join('\n') + '\n'
}
