/** Numbers, durations and param values as a person reads them in tables and summaries. */

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

/** A run's note as a line: when (UTC, to the minute), then its text. */
export function noteLine(note: {at: number; text: string}): string {
  return `${new Date(note.at * 1000).toISOString().slice(0, 16).replace('T', ' ')}  ${note.text}`
}

/** A size in bytes as people read it: 512 B, 3.4 MB, 1.2 GB (powers of 1024). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}
