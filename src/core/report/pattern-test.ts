/** `mlx validate --test-patterns`'s report: what a script config's patterns took from a saved log. */
import type {PatternTest} from '../metrics/patterns.js'
import {formatNumber} from './numbers.js'

/** What --test-patterns prints: a line per record the patterns took, and a summary of them all. */
export function describePatternTest(test: PatternTest, logFile: string): {lines: string[]; summary: string} {
  const lines = test.records.map((record) => {
    const values = Object.entries(record.values).map(([key, value]) => `${key}=${formatNumber(value)}`)
    const epoch = record.epoch === null ? '' : ` epoch ${formatNumber(record.epoch)}`
    return `${logFile}:${record.line}: step ${record.step}${epoch}: ${values.join(' ')}`
  })
  const keys = [...new Set(test.records.flatMap((record) => Object.keys(record.values)))]
  const summary = `${test.records.length} of ${test.lines} lines gave metrics${keys.length > 0 ? `: ${keys.join(', ')}` : ''}`
  return {lines, summary}
}
