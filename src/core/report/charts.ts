/** Metric curves drawn with text: sparklines for summaries, small line charts for `mlx show`. */
import {formatNumber} from './numbers.js'

const BLOCKS = '▁▂▃▄▅▆▇█'

/** `values` averaged into `width` buckets (or fewer, when there are fewer values). */
function buckets(values: readonly number[], width: number): number[] {
  if (values.length <= width) return [...values]
  return Array.from({length: width}, (_, i) => {
    const slice = values.slice(Math.floor((i * values.length) / width), Math.floor(((i + 1) * values.length) / width))
    return slice.reduce((sum, v) => sum + v, 0) / slice.length
  })
}

/** A one-line curve, low to high as ▁ to █ (non-finite values left out). */
export function sparkline(values: readonly (number | null)[], width = 24): string {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v))
  if (finite.length === 0) return ''
  const points = buckets(finite, width)
  const [low, high] = [Math.min(...points), Math.max(...points)]
  return points
    .map((v) => BLOCKS[high === low ? 3 : Math.round(((v - low) / (high - low)) * (BLOCKS.length - 1))])
    .join('')
}

/**
 * A line chart of (step, value) points, `height` rows by `width` columns, with the value
 * range on the left and the range of x (`xLabel`: step, epoch, time) below. Each column shows its bucket's mean.
 */
export function lineChart(
  points: ReadonlyArray<readonly [number, number | null]>,
  width = 60,
  height = 8,
  xLabel = 'step',
): string[] {
  const finite = points.filter((p): p is [number, number] => p[1] !== null && Number.isFinite(p[1]))
  if (finite.length === 0) return ['(no values)']
  const values = buckets(
    finite.map((p) => p[1]),
    width,
  )
  const [low, high] = [Math.min(...values), Math.max(...values)]
  const rowOf = (v: number) =>
    high === low ? Math.floor(height / 2) : Math.round(((high - v) / (high - low)) * (height - 1))
  const grid = Array.from({length: height}, () => Array.from({length: values.length}, () => ' '))
  values.forEach((v, column) => {
    const row = rowOf(v)
    grid[row]![column] = '•'
    // Join a step from the previous column with a vertical stroke, so the curve reads as a line.
    if (column > 0) {
      const previous = rowOf(values[column - 1]!)
      for (let r = Math.min(row, previous) + 1; r < Math.max(row, previous); r++) grid[r]![column] = '│'
    }
  })
  const labels = [formatNumber(high), formatNumber(low)]
  const labelWidth = Math.max(...labels.map((l) => l.length))
  const lines = grid.map(
    (cells, row) =>
      `${(row === 0 ? labels[0]! : row === height - 1 ? labels[1]! : '').padStart(labelWidth)} ┤${cells.join('')}`,
  )
  const [first, last] = [finite[0]![0], finite.at(-1)![0]]
  const axis = `${xLabel} ${formatNumber(first)}`
  lines.push(`${' '.repeat(labelWidth)} └${'─'.repeat(values.length)}`)
  lines.push(
    `${' '.repeat(labelWidth + 2)}${axis}${formatNumber(last).padStart(Math.max(formatNumber(last).length + 1, values.length - axis.length))}`,
  )
  return lines
}
