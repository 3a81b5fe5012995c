/**
 * The metrics protocol (docs/metrics.md): one JSON object per line, `v` 1.
 *
 *   {"v":1,"t":…,"kind":"metrics","step":120,"epoch":1,"values":{"train/loss":0.41}}
 *   {"v":1,"t":…,"kind":"event","event":"checkpoint","path":"checkpoints/epoch1.pt"}
 *
 * Parsing never throws: a line that is not a valid record is returned as a problem to
 * count and report. Unknown fields are ignored (forward compatibility); a value that is
 * not a number (or one of the strings "NaN", "Infinity", "-Infinity") is skipped and
 * counted, the rest of the line kept.
 */

export interface MetricPoint {
  key: string
  value: number
}

export interface MetricsRecord {
  kind: 'metrics'
  t: number
  step: number
  epoch: number | null
  values: MetricPoint[]
  /** Values in the line that were not numbers, and so not stored. */
  skipped: number
}

export interface EventRecord {
  kind: 'event'
  t: number
  event: string
  /** Every field of the line except v, t, kind and event. */
  data: Record<string, unknown>
}

export type ParsedLine = {ok: true; record: MetricsRecord | EventRecord} | {ok: false; problem: string}

const NON_FINITE: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
}

export function parseMetricsLine(line: string): ParsedLine {
  let raw: unknown
  try {
    raw = JSON.parse(line)
  } catch {
    return {ok: false, problem: 'not valid JSON'}
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return {ok: false, problem: 'not a JSON object'}
  const object = raw as Record<string, unknown>
  if (object.v !== 1) return {ok: false, problem: `unsupported protocol version ${JSON.stringify(object.v)}`}
  const t = typeof object.t === 'number' && Number.isFinite(object.t) ? object.t : Number.NaN
  if (Number.isNaN(t)) return {ok: false, problem: 't must be a finite number (seconds since the epoch)'}

  switch (object.kind) {
    case 'metrics': {
      if (!Number.isInteger(object.step) || (object.step as number) < 0)
        return {ok: false, problem: 'step must be a non-negative integer'}
      const epoch = object.epoch === undefined || object.epoch === null ? null : object.epoch
      if (epoch !== null && (typeof epoch !== 'number' || !Number.isFinite(epoch)))
        return {ok: false, problem: 'epoch must be a number'}
      if (typeof object.values !== 'object' || object.values === null || Array.isArray(object.values)) {
        return {ok: false, problem: 'values must be an object of metric names to numbers'}
      }
      const values: MetricPoint[] = []
      let skipped = 0
      for (const [key, value] of Object.entries(object.values)) {
        const number = typeof value === 'number' ? value : typeof value === 'string' ? NON_FINITE[value] : undefined
        if (number === undefined || key === '') skipped++
        else values.push({key, value: number})
      }
      return {ok: true, record: {kind: 'metrics', t, step: object.step as number, epoch, values, skipped}}
    }
    case 'event': {
      if (typeof object.event !== 'string' || object.event === '')
        return {ok: false, problem: 'event must be a non-empty string'}
      const {v: _v, t: _t, kind: _kind, event, ...data} = object
      return {ok: true, record: {kind: 'event', t, event, data}}
    }
    default:
      return {ok: false, problem: `unknown kind ${JSON.stringify(object.kind)}`}
  }
}
