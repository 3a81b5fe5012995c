/**
 * `mlx stop RUN`: from any terminal, stops a running run as Ctrl-C would. The run is marked
 * as asked to stop, its process tree (or its Slurm job's steps) gets SIGINT (the trainer saves
 * a checkpoint and exits), and SIGKILL once the grace period has passed. The mlx that follows the run then
 * records it `interrupted`; when none follows it (it was killed), this command does. A run whose script
 * has already logged its `end` is finishing: it is left to exit, and ends `completed`.
 */
import {hostname} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {UserError} from '../errors.js'
import {launchControl} from '../launch/control.js'
import type {LauncherName} from '../launch/launcher.js'
import {ingestAvailable} from '../store/ingest.js'
import type {RunRecord, Store} from '../store/store.js'
import {reconcileRuns} from './reconcile.js'
import {INTERRUPT_GRACE_MS} from './run.js'

export interface StopResult {
  id: string
  name: string
  status: RunRecord['status']
  /** Whether the run had to be killed after the grace period. */
  killed: boolean
}

const POLL_MS = 100
/** How long the follower of the run gets to record its outcome once the process is gone. */
const FOLLOWER_MS = 5_000

export async function stopRun(
  store: Store,
  ref: string,
  options: {graceMs?: number; onKill?: () => void} = {},
): Promise<StopResult> {
  const run = store.resolveRun(ref, 'unique')
  if (run.status !== 'running')
    throw new UserError(
      `run ${run.id} is not running (it is ${run.status})`,
      'mlx runs --status running lists the runs that are',
    )
  const launcher = run.launch.launcher as LauncherName
  if (launcher !== 'slurm' && run.host !== hostname())
    throw new UserError(
      `run ${run.id} runs on ${run.host}, not on this machine`,
      `run mlx stop ${run.id} on ${run.host}`,
    )
  const process = {pid: run.pid, jobId: run.jobId}
  if (process.pid === null && process.jobId === null)
    throw new UserError(`run ${run.id} has no process yet`, 'try again in a moment')
  const control = launchControl(launcher)
  // A run whose script has logged its end has done its work and is exiting: it is let finish, not interrupted.
  ingestAvailable(store, run.id, join(run.runDir, 'metrics.jsonl'), false)
  const finishing = store.events(run.id, true).some((event) => event.event === 'end')
  store.requestStop(run.id, Date.now() / 1000)
  if (!finishing) control.stop(process, 'interrupt')
  const grace = Date.now() + (options.graceMs ?? INTERRUPT_GRACE_MS)
  while (control.alive(process) && Date.now() < grace) await sleep(POLL_MS)
  const killed = control.alive(process)
  if (killed) {
    options.onKill?.()
    control.stop(process, 'kill')
    while (control.alive(process)) await sleep(POLL_MS)
  }
  const until = Date.now() + FOLLOWER_MS
  while (store.getRun(run.id)?.status === 'running' && Date.now() < until) await sleep(POLL_MS)
  reconcileRuns(store)
  const record = store.getRun(run.id)!
  return {id: record.id, name: record.name, status: record.status, killed}
}
