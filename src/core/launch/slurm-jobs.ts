/**
 * A Slurm job's state, its end and stopping it, through scontrol and scancel (node's own
 * spawnSync: every command that lists runs may ask after a job, and must stay quick).
 */
import {spawnSync} from 'node:child_process'
import type {JobState, ProcessOutcome, ProcessRef, StopHow} from './launcher.js'

export const TERMINAL: ReadonlySet<string> = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'OUT_OF_MEMORY',
  'BOOT_FAIL',
  'DEADLINE',
  'REVOKED',
  'SPECIAL_EXIT',
])

/** The job's state from scontrol, or null once Slurm no longer knows the job. */
export function jobState(
  jobId: string,
): (JobState & {exitCode: number | null; signal: number | null; endedAt: number | null}) | null {
  const shown = spawnSync('scontrol', ['show', 'job', '-o', jobId], {encoding: 'utf8'})
  if (shown.status !== 0) return null
  const text = shown.stdout
  const field = (name: string) => new RegExp(`(?:^|\\s)${name}=(\\S+)`).exec(text)?.[1] ?? null
  const [code, signal] = (field('ExitCode') ?? '').split(':').map(Number)
  const reason = field('Reason')
  // scontrol's times are the controller's local time, without a zone: read as local time here.
  const end = Date.parse(field('EndTime') ?? '')
  return {
    state: field('JobState') ?? 'UNKNOWN',
    reason: reason === 'None' ? null : reason,
    exitCode: Number.isFinite(code) ? code! : null,
    signal: Number.isFinite(signal) ? signal! : null,
    endedAt: Number.isFinite(end) ? end / 1000 : null,
  }
}

export function ended(jobId: string): boolean {
  const state = jobState(jobId)
  return state === null || TERMINAL.has(state.state)
}

/** The job's end as a process outcome: its exit code, or the signal that ended it, and Slurm's word for it. */
export function outcomeOf(jobId: string, state: ReturnType<typeof jobState>): ProcessOutcome {
  if (state === null) return {exitCode: null, signal: null, detail: `job ${jobId} is no longer known to Slurm`}
  const detail = `job ${jobId} ${state.state}${state.reason ? ` (${state.reason})` : ''}`
  const endedAt = state.endedAt === null ? {} : {endedAt: state.endedAt}
  if (state.signal) return {exitCode: null, signal: `signal ${state.signal}`, detail, ...endedAt}
  // A job cancelled before its script set an exit status still did not succeed.
  if (state.state !== 'COMPLETED' && state.exitCode === 0) return {exitCode: null, signal: null, detail, ...endedAt}
  return {exitCode: state.exitCode, signal: null, detail, ...endedAt}
}

/** Whether the job still runs or waits to. */
export function jobAlive(ref: ProcessRef): boolean {
  return ref.jobId !== null && !ended(ref.jobId)
}

/** An interrupt: SIGINT to the job's steps (a pending job is cancelled); a kill: SIGKILL to the whole job. */
export function stopJob(ref: ProcessRef, how: StopHow): void {
  if (ref.jobId === null) return
  const pending = jobState(ref.jobId)?.state === 'PENDING'
  const args =
    how === 'kill' ? ['--signal=KILL', '--full', ref.jobId] : pending ? [ref.jobId] : ['--signal=INT', ref.jobId]
  spawnSync('scancel', args)
  // A signal to a job whose steps have not started yet does not end it.
  if (how === 'kill') spawnSync('scancel', [ref.jobId])
}

/** The state of a job mlx no longer follows, for the runs listing: its outcome once it has ended. */
export function endedJob(jobId: string): ProcessOutcome | null {
  const state = jobState(jobId)
  return state === null || TERMINAL.has(state.state) ? outcomeOf(jobId, state) : null
}
