/**
 * Turning a comparison into a table of text cells, and that table into CSV or
 * Markdown. The ink table (src/ui) renders the same cells, so every format shows the
 * same columns.
 */
import stringWidth from 'string-width'
import {formatDuration, formatNumber, formatParam} from './numbers.js'
import type {Comparison, ParamColumns} from './compare.js'
import {TIE_RULE} from './tie-rule.js'
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
  /** Cells a shrinkable column is never cut below: a run name keeps what tells it from the others. */
  minWidth?: number[]
  /**
   * Columns that may be left out when cutting is not enough, lowest rank first; undefined:
   * never (the run id and name, the primary metric). Rank 0 yields before anything is cut.
   */
  dropRank?: Array<number | undefined>
  /** Leading columns a view panning sideways keeps in place (the run id and name). */
  frozen?: number
  /** Columns whose first sort is descending (metrics where higher is better). */
  descendingFirst?: boolean[]
  /** Set by fitTable: the headers of the columns it left out. */
  leftOut?: string[]
  /** How to see the columns left out, said under the table with their names. */
  leftOutHint?: string
}

/** What a run name keeps while params give way: enough to tell `sweep-12-lr0.01` from `sweep-12-lr0.02`. */
export const NAME_KEEP_WIDTH = 16

/** Terminal cells a text takes (wide characters count two, escape codes none). */
export function displayWidth(text: string): number {
  return stringWidth(text)
}

/**
 * Rows of plain text as aligned columns two spaces apart, for the small tables printed whole (no fitting to
 * the terminal): a column `rightAligned` names is padded on the left (numbers); each line's end is trimmed.
 */
export function alignedLines(
  rows: ReadonlyArray<readonly string[]>,
  rightAligned: (column: number) => boolean = () => false,
): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => displayWidth(row[column] ?? ''))))
  return rows.map((row) =>
    row
      .map((cell, column) => {
        const padding = ' '.repeat(widths[column]! - displayWidth(cell))
        return rightAligned(column) ? padding + cell : cell + padding
      })
      .join('  ')
      .trimEnd(),
  )
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

/** The widest cell of each column: its header or a cell. */
function tableWidthOf(widths: readonly number[]): number {
  return widths.reduce((sum, width) => sum + width, 0) + COLUMN_GAP * Math.max(0, widths.length - 1)
}

/** Only the `keep` columns of a table (the fields that are per column follow them). */
export function keepColumns(table: Table, keep: readonly number[]): Table {
  const pick = <T>(values: readonly T[] | undefined) => values && keep.map((column) => values[column]!)
  return {
    ...table,
    headers: pick(table.headers)!,
    rows: table.rows.map((row) => pick(row)!),
    shrinkable: pick(table.shrinkable),
    keepWidth: pick(table.keepWidth),
    minWidth: pick(table.minWidth),
    dropRank: pick(table.dropRank),
    descendingFirst: pick(table.descendingFirst),
    frozen: Math.min(table.frozen ?? 0, keep.filter((column) => column < (table.frozen ?? 0)).length),
  }
}

/**
 * The table fitted to `columns` terminal cells, in this order until it fits: columns of rank
 * 0 are left out (those equal for every run); the widest shrinkable column (a name or a param)
 * gives way one cell at a time down to its keepWidth (6 at least); columns of rank 1 to 5 are
 * left out, lowest rank first and rightmost first within a rank; shrinkable columns go down to
 * 6 cells, a name never below its minWidth; then the remaining ranked columns are left out.
 * Ids and metric values are never cut. `leftOut` names what was left out; what still does not
 * fit is cut at the line's end by the renderer, never wrapped.
 */
export function fitTable(table: Table, columns: number): Table {
  const widths = columnWidths(table)
  const kept = table.headers.map(() => true)
  const total = () => tableWidthOf(widths.filter((_, column) => kept[column]))
  const leaveOut = (upToRank: number) => {
    const ranked = table.headers
      .map((_, column) => column)
      .filter((column) => {
        const rank = table.dropRank?.[column]
        return kept[column] && rank !== undefined && rank <= upToRank
      })
      .sort((a, b) => table.dropRank![a]! - table.dropRank![b]! || b - a)
    for (const column of ranked) {
      if (total() <= columns) return
      kept[column] = false
    }
  }
  const shrink = (floorOf: (column: number) => number) => {
    while (total() > columns) {
      let widest = -1
      widths.forEach((width, column) => {
        if (
          kept[column] &&
          table.shrinkable?.[column] &&
          width > floorOf(column) &&
          (widest < 0 || width > widths[widest]!)
        )
          widest = column
      })
      if (widest < 0) return
      widths[widest]!--
    }
  }
  const floor = (column: number) => Math.max(Math.min(NARROWEST, widths[column]!), table.minWidth?.[column] ?? 0)
  leaveOut(0)
  shrink((column) => Math.max(floor(column), table.keepWidth?.[column] ?? 0))
  leaveOut(5)
  shrink(floor)
  leaveOut(Infinity)

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
  const fitted: Table = {
    ...table,
    headers: table.headers.map((header, column) => fitHeader(header, column)),
    rows: table.rows.map((row) => row.map((cell, column) => ({...cell, text: fit(cell.text, column)}))),
  }
  const keep = table.headers.map((_, column) => column).filter((column) => kept[column])
  const leftOut = table.headers.filter((_, column) => !kept[column])
  return {...keepColumns(fitted, keep), ...(leftOut.length > 0 ? {leftOut} : {})}
}

/**
 * The line saying which columns a fitted table left out, and how to see them; empty when
 * none. A metric whose last and best columns both went is named once.
 */
export function leftOutLine(table: Table): string {
  if (!table.leftOut?.length) return ''
  const names = table.leftOut.map((header) => {
    const metric = / (last|best)$/.exec(header) ? header.slice(0, -5) : null
    return metric && table.leftOut!.includes(`${metric} last`) && table.leftOut!.includes(`${metric} best`)
      ? metric
      : header
  })
  return `not shown, too narrow: ${[...new Set(names)].join(', ')}${table.leftOutHint ? ` (${table.leftOutHint})` : ''}`
}

/**
 * The fewest cells that show each of `texts` apart from every other (cut with an ellipsis):
 * `lr-0.01` and `lr-0.001` need their whole length, `alpha` and `beta` none beyond 6.
 * Texts that are the same cannot be told apart by cutting less, so they do not count.
 */
export function distinguishingWidth(texts: readonly string[], least = NARROWEST): number {
  const sorted = [...new Set(texts)].sort()
  let width = Math.min(least, Math.max(0, ...sorted.map((text) => displayWidth(text))))
  sorted.forEach((text, at) => {
    for (const neighbour of [sorted[at - 1], sorted[at + 1]]) {
      if (neighbour === undefined) continue
      let common = 0
      while (common < text.length && text[common] === neighbour[common]) common++
      width = Math.max(width, Math.min(displayWidth(text), displayWidth(text.slice(0, common + 1)) + 1))
    }
  })
  return width
}

/**
 * Each param key's header: its shortest dotted suffix that no other param of the runs ends
 * with and that no other header uses (`optim.lr` -> `lr`, but `optim.lr` and `sched.lr` stay).
 */
export function paramHeaders(
  keys: readonly string[],
  allKeys: readonly string[],
  reserved: readonly string[],
): string[] {
  const others = [...new Set(allKeys)]
  return keys.map((key) => {
    const parts = key.split('.')
    for (let size = 1; size < parts.length; size++) {
      const suffix = parts.slice(-size).join('.')
      const clash = others.some((other) => other !== key && (other === suffix || other.endsWith(`.${suffix}`)))
      if (!clash && !reserved.includes(suffix)) return suffix
    }
    return key
  })
}

/** The headers of a comparison's param columns: short, and clear of every other header. */
function shortParamHeaders(comparison: Comparison): string[] {
  const metricHeaders = comparison.metrics.flatMap((metric) =>
    metric.goal ? [`${metric.key} last`, `${metric.key} best`] : [metric.key],
  )
  const allKeys = comparison.runs.flatMap((run) => Object.keys(run.params))
  return paramHeaders(comparison.differingParams, allKeys, ['run', 'name', 'status', 'duration', ...metricHeaders])
}

/**
 * The table of a comparison; `idLength` shortens the run ids (to their shortest unique
 * prefix). Columns: run, name, the judged metric, the params that differ (by their short
 * headers, or their full keys without `shortHeaders`), the other metrics, status, duration; what a narrow terminal leaves out first is
 * what tells least (fitTable).
 */
export function comparisonTable(comparison: Comparison, idLength?: number, shortHeaders = true): Table {
  const {runs, differingParams, judged} = comparison
  const metrics = [
    ...comparison.metrics.filter((metric) => metric.key === judged),
    ...comparison.metrics.filter((metric) => metric.key !== judged),
  ]
  const shortParams = shortHeaders ? shortParamHeaders(comparison) : differingParams
  const equalForAll = (text: (run: (typeof runs)[number]) => string) => new Set(runs.map(text)).size <= 1
  const duration = (run: (typeof runs)[number]) => formatDuration(run.durationSeconds)

  const columns: Array<{
    header: string
    cell: (run: (typeof runs)[number]) => TableCell
    rank?: number
    shrinkable?: boolean
    descendingFirst?: boolean
  }> = [
    {header: 'run', cell: (run) => ({text: idLength ? run.id.slice(0, idLength) : run.id})},
    {header: 'name', cell: (run) => ({text: run.name}), shrinkable: true},
  ]
  const metricColumns = (metric: (typeof metrics)[number]) => {
    const isJudged = metric.key === judged
    const last = {
      header: metric.goal ? `${metric.key} last` : metric.key,
      rank: isJudged ? 5 : metric.goal ? 3 : 4,
      descendingFirst: metric.goal === 'max',
      cell: (run: (typeof runs)[number]): TableCell => {
        const value = run.metrics[metric.key]?.last
        return {text: formatNumber(value), align: 'right', sortValue: value ?? null}
      },
    }
    if (!metric.goal) return [last]
    const best = {
      header: `${metric.key} best`,
      rank: isJudged ? undefined : 4,
      descendingFirst: metric.goal === 'max',
      cell: (run: (typeof runs)[number]): TableCell => {
        const value = run.metrics[metric.key]?.best
        return {
          text: formatNumber(value),
          align: 'right',
          best: metric.bestRunIds.includes(run.id),
          sortValue: value ?? null,
        }
      },
    }
    return [last, best]
  }
  const [judgedMetric, ...otherMetrics] = judged ? metrics : [undefined, ...metrics]
  if (judgedMetric) columns.push(...metricColumns(judgedMetric))
  differingParams.forEach((key, index) =>
    columns.push({
      header: shortParams[index]!,
      shrinkable: true,
      rank: 6 + (differingParams.length - 1 - index),
      cell: (run) => {
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
      },
    }),
  )
  for (const metric of otherMetrics) columns.push(...metricColumns(metric!))
  columns.push(
    {
      header: 'status',
      rank: equalForAll((run) => run.status) ? 0 : 2,
      cell: (run) => ({text: run.status, status: run.status}),
    },
    {
      header: 'duration',
      rank: equalForAll(duration) ? 0 : 1,
      cell: (run) => ({text: duration(run), align: 'right', sortValue: run.durationSeconds}),
    },
  )

  const rows = runs.map((run) => columns.map((column) => column.cell(run)))
  const textsOf = (column: number) => rows.map((row) => row[column]!.text)
  return {
    headers: columns.map((column) => column.header),
    rows,
    shrinkable: columns.map((column) => Boolean(column.shrinkable)),
    // Names shrink to 16 cells before anything else gives way; param values only once metrics have.
    keepWidth: columns.map((column, index) =>
      index === 1
        ? NAME_KEEP_WIDTH
        : column.shrinkable
          ? Math.max(displayWidth(column.header), ...textsOf(index).map(displayWidth))
          : 0,
    ),
    // A param keeps its (short) header whole; a name or a param value keeps what tells the runs apart.
    minWidth: columns.map((column, index) =>
      !column.shrinkable
        ? 0
        : Math.max(index === 1 ? 0 : displayWidth(column.header), distinguishingWidth(textsOf(index))),
    ),
    dropRank: columns.map((column) => column.rank),
    frozen: 2,
    descendingFirst: columns.map((column) => Boolean(column.descendingFirst)),
    leftOutHint: 'choose with --metric and --params, or see all with: mlx compare ... | less -S',
  }
}

/**
 * The lines under a comparison table: who won on the judged metric and how a tie was
 * broken, what the marks mean, which full keys the short param headers stand for.
 */
export function comparisonLegend(comparison: Comparison, params: ParamColumns, idLength?: number): string {
  const lines: string[] = []
  const {winner, judged} = comparison
  if (winner) {
    const id = idLength ? winner.id.slice(0, idLength) : winner.id
    const step = winner.bestStep === null ? '' : ` at step ${winner.bestStep}`
    const others = `${winner.tiedWith} other run${winner.tiedWith === 1 ? '' : 's'}`
    const tie =
      winner.tiedWith === 0
        ? ''
        : `; tied with ${others}, ${winner.brokenBy ? `decided by ${winner.brokenBy}` : 'alike in every rule'} (${TIE_RULE})`
    lines.push(`best ${winner.key}: ${winner.name} (${id}), ${formatNumber(winner.best)}${step}${tie}`)
  } else if (!judged && new Set(comparison.runs.map((run) => run.primaryMetric)).size > 1) {
    lines.push('no single winner: the runs select on different primary metrics (judge them on one with --metric)')
  }
  const byGoal = (goal: 'min' | 'max') => comparison.metrics.filter((m) => m.goal === goal).map((m) => m.key)
  const goals = [
    ...(byGoal('max').length ? [`higher is better: ${byGoal('max').join(', ')}`] : []),
    ...(byGoal('min').length ? [`lower: ${byGoal('min').join(', ')}`] : []),
  ]
  let marks = `* best in column${goals.length ? ` (${goals.join('; ')})` : ''}`
  if (comparison.runs.length > 1 && comparison.differingParams.length > 0) {
    const which = params === 'all' ? 'all params' : params === 'differing' ? 'params that differ' : 'params'
    marks += `; ${which}: ${comparison.differingParams.join(', ')}`
  }
  lines.push(marks)
  return lines.join('\n')
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
  const table = comparisonTable(comparison, undefined, false)
  const escape = markdownText
  const lines = [
    `| ${table.headers.map(escape).join(' | ')} |`,
    `| ${table.rows[0]?.map((cell) => (cell.align === 'right' ? '---:' : '---')).join(' | ') ?? table.headers.map(() => '---').join(' | ')} |`,
  ]
  for (const row of table.rows)
    lines.push(`| ${row.map((cell) => (cell.best ? `**${escape(cell.text)}**` : escape(cell.text))).join(' | ')} |`)
  return lines.join('\n') + '\n'
}
