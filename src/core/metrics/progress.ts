/** Live progress of a run, folded from its metric records: what the progress views show. */
import {excerpt} from '../errors.js'
import {isTimingMetric, metricGoal, type Goal} from './goal.js'
import type {EventRecord, MetricsRecord} from './parse.js'

/** How much a new samples/s reading moves the shown one: smooth enough not to flicker, quick to follow a change. */
const THROUGHPUT_SMOOTHING = 0.3

export interface Progress {
  epoch: number
  epochs: number | null
  step: number
  totalSteps: number | null
  /** Seconds since the run was created. */
  elapsed: number
  /** When the script's `start` event came (seconds since the epoch): the ETA counts from here, not from start-up. */
  trainingStartedAt: number | null
  /** Seconds left at the pace so far, once it can be estimated. */
  eta: number | null
  /** Samples per second, smoothed (an exponential moving average of the script's readings). */
  samplesPerSec: number | null
  /** The latest value of every metric. */
  latest: Record<string, number>
  /** The best value so far of every metric whose direction is known (the primary's as configured). */
  best: Record<string, number>
  /** The run's primary metric, shown first with its best so far. */
  primary: {key: string; goal: Goal | null} | null
  /** Events seen so far, by name (for example `epoch_end`: 3). */
  events: Record<string, number>
  /** What a step and a sample are, as the script's `start` event names them (RL: an update, an env step). */
  units: {step: string; samples: string}
  /** The script's warnings (its `warning` events), in order. */
  warnings: string[]
}

export function initialProgress(primary: Progress['primary'] = null): Progress {
  return {
    epoch: 0,
    epochs: null,
    step: 0,
    totalSteps: null,
    elapsed: 0,
    trainingStartedAt: null,
    eta: null,
    samplesPerSec: null,
    latest: {},
    best: {},
    primary,
    events: {},
    units: {step: 'step', samples: 'samples'},
    warnings: [],
  }
}

/** Folds records into the progress, given when the run started (seconds since the epoch). */
export function advance(
  progress: Progress,
  records: ReadonlyArray<MetricsRecord | EventRecord>,
  startedAt: number,
): Progress {
  let next = progress
  for (const record of records) {
    next = {...next, elapsed: Math.max(next.elapsed, record.t - startedAt)}
    if (record.kind === 'event') {
      next.events = {...next.events, [record.event]: (next.events[record.event] ?? 0) + 1}
      if (record.event === 'warning' && typeof record.data.message === 'string')
        next.warnings = [...next.warnings, excerpt(record.data.message, 300)]
      if (record.event === 'start') {
        next.trainingStartedAt = record.t
        const {epochs, total_steps: totalSteps} = record.data
        if (typeof epochs === 'number') next.epochs = epochs
        if (typeof totalSteps === 'number') next.totalSteps = totalSteps
        const units = record.data.units as Record<string, unknown> | undefined
        if (units && typeof units === 'object') {
          next.units = {
            step: typeof units.step === 'string' ? units.step : next.units.step,
            samples: typeof units.samples === 'string' ? units.samples : next.units.samples,
          }
        }
      }
      if (record.event === 'epoch_end' && typeof record.data.epoch === 'number') next.epoch = record.data.epoch
      continue
    }
    next.step = Math.max(next.step, record.step)
    if (record.epoch !== null) next.epoch = Math.max(next.epoch, Math.ceil(record.epoch) - 1)
    const latest = {...next.latest, ...Object.fromEntries(record.values.map(({key, value}) => [key, value]))}
    next.latest = latest
    const best = {...next.best}
    const configured = next.primary?.goal ? {[next.primary.key]: next.primary.goal} : {}
    for (const {key, value} of record.values) {
      const goal = isTimingMetric(key) ? undefined : metricGoal(key, configured)
      if (!goal || !Number.isFinite(value)) continue
      const held = best[key]
      if (held === undefined || (goal === 'max' ? value > held : value < held)) best[key] = value
    }
    next.best = best
    const reading = record.values.find(({key}) => key === 'perf/samples_per_sec')?.value
    if (reading !== undefined && Number.isFinite(reading))
      next.samplesPerSec =
        next.samplesPerSec === null
          ? reading
          : next.samplesPerSec + THROUGHPUT_SMOOTHING * (reading - next.samplesPerSec)
  }
  const training = next.trainingStartedAt === null ? null : startedAt + next.elapsed - next.trainingStartedAt
  next.eta =
    training !== null && next.totalSteps && next.step > 0
      ? (training / next.step) * Math.max(0, next.totalSteps - next.step)
      : null
  return next
}

/** The metrics a progress view shows: the primary, then train, then val, then the rest; not perf/ (shown apart). */
export function headlineMetrics(latest: Record<string, number>, primary?: string): Array<[string, number]> {
  const rank = (key: string) => (key === primary ? -1 : key.startsWith('train/') ? 0 : key.startsWith('val/') ? 1 : 2)
  return Object.entries(latest)
    .filter(([key]) => !isTimingMetric(key))
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
}

/** The metrics of a progress line as text: the primary's best so far beside its latest value. */
export function headlineText(progress: Progress, format: (value: number) => string): string[] {
  const primary = progress.primary?.key
  return headlineMetrics(progress.latest, primary).map(([key, value]) =>
    key === primary && progress.best[key] !== undefined
      ? `${key} ${format(value)} (best ${format(progress.best[key]!)})`
      : `${key} ${format(value)}`,
  )
}
