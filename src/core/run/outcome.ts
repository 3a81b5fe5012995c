/**
 * How a run ended, recorded: its status from its process's (or Slurm job's) outcome, the
 * tail of its stderr when it failed, and run.json in its directory. Shared by the mlx that
 * follows a run and by the commands that catch up with runs nobody follows.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import type {ProcessOutcome} from '../launch/launcher.js'
import type {RunRecord, RunStatus, Store} from '../store/store.js'

const ERROR_TAIL_LINES = 25

/**
 * Records how a run ended, from its process's (or job's) outcome, in the index and its run.json.
 * `endedAt` is when it ended, where that was earlier than now (a run caught up with late).
 */
export function recordOutcome(
  store: Store,
  run: RunRecord,
  outcome: ProcessOutcome,
  interrupted: boolean,
  endedAt = Date.now() / 1000,
): RunRecord {
  const events = store.events(run.id, true)
  const diverged = events.some((event) => event.event === 'diverged')
  // A run whose script logged its end had finished its work: a stop that raced its exit does not undo that.
  const ended = events.some((event) => event.event === 'end')
  // mlx stop (from another terminal) stops a run as Ctrl-C does.
  const stopped = interrupted || store.getRun(run.id)?.stopRequestedAt != null
  const status = statusOf(ended && stopped ? {...outcome, exitCode: 0} : outcome, stopped, diverged)
  const error = status === 'completed' ? null : errorText(run.runDir, outcome, status)
  store.finishRun(run.id, {status, endedAt, exitCode: outcome.exitCode, signal: outcome.signal, error})
  return store.getRun(run.id)!
}

/** How a run ended: its exit, whether mlx interrupted it, and whether the script reported divergence. */
export function statusOf(outcome: ProcessOutcome, interrupted: boolean, diverged: boolean): RunStatus {
  if (outcome.exitCode === 0) return 'completed'
  if (interrupted) return 'interrupted'
  return diverged ? 'diverged' : 'failed'
}

export function errorText(runDir: string, outcome: ProcessOutcome, status: RunStatus): string {
  let tail = ''
  try {
    tail = readFileSync(join(runDir, 'stderr.log'), 'utf8').trimEnd().split('\n').slice(-ERROR_TAIL_LINES).join('\n')
  } catch {
    // No stderr.log: the process never started.
  }
  const exit = outcome.signal
    ? `killed by ${outcome.signal}`
    : outcome.exitCode !== null
      ? `exit code ${outcome.exitCode}`
      : null
  const how = [exit, outcome.detail].filter((part) => part).join('; ') || 'its exit status is unknown'
  const what =
    {interrupted: `interrupted (${how})`, diverged: `the loss diverged (${how})`}[status as string] ??
    `the training script failed (${how})`
  return tail ? `${what}\n${tail}` : what
}
