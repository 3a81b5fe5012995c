/** `--since`: a duration back from now (30m, 2h, 3d, 1w) or a date (2026-11-29, 2026-11-29T10:00). */
import {excerpt, UserError} from '../errors.js'

const UNITS: Record<string, number> = {s: 1, m: 60, h: 3600, d: 86400, w: 604800}

/** Seconds since the Unix epoch. */
export function parseSince(text: string, now = Date.now() / 1000, flag = '--since'): number {
  const duration = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text.trim())
  if (duration) return now - Number(duration[1]) * UNITS[duration[2]!]!
  const date = Date.parse(text)
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(date)) return date / 1000
  throw new UserError(
    `${flag} ${JSON.stringify(excerpt(text))}: expected a duration (30m, 2h, 3d, 1w) or a date (2026-11-29)`,
  )
}
