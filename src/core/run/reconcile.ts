/**
 * Runs whose follower went away: when mlx itself was killed while a run trained (or the
 * run was submitted with --detach), the run stays `running` in the index while the trainer
 * goes on writing metrics.jsonl. Every command that reads runs first catches such runs up:
 * it ingests the lines written since (nothing written is lost) and, once the trainer's
 * process (or Slurm job) is gone, records an outcome. A Slurm job's exit code and state
 * come from scontrol. A local process's exit status cannot be known without the process
 * that waited for it: `completed` when the script logged its `end` event, `interrupted`
 * when mlx stop asked it to stop, else `failed`. The run's end is when it ended (the last
 * write to its files, or Slurm's end time), not when it was caught up with.
 *
 * A run whose follower (the mlx that started or resumed it) still runs on this machine is
 * left to it. A read-only store is read as it is.
 */
import {statSync} from 'node:fs'
import {hostname} from 'node:os'
import {join} from 'node:path'
import {launchControl} from '../launch/control.js'
import type {LauncherName, ProcessOutcome} from '../launch/launcher.js'
import {processAlive} from '../launch/processes.js'
import {endedJob} from '../launch/slurm-jobs.js'
import {ingestAvailable} from '../store/ingest.js'
import type {RunRecord, Store} from '../store/store.js'
import {recordOutcome} from './outcome.js'

/** Returns how many runs it finished. Runs started on other hosts are left as they are (Slurm jobs are asked after anywhere). */
export function reconcileRuns(store: Store): number {
  if (store.readOnly !== null) return 0
  let finished = 0
  const here = hostname()
  for (const run of store.listRuns({status: ['running']})) {
    const launcher = run.launch.launcher as LauncherName
    if (launcher !== 'slurm' && run.host !== here) continue
    if (
      run.follower &&
      run.follower.host === here &&
      run.follower.pid !== process.pid &&
      processAlive(run.follower.pid)
    )
      continue
    const ref = {pid: run.pid, jobId: run.jobId}
    // A Slurm job's end comes with its outcome: one scontrol call answers both.
    const jobEnd = ref.jobId === null ? null : endedJob(ref.jobId)
    const gone = ref.jobId !== null ? jobEnd !== null : ref.pid === null || !launchControl(launcher).alive(ref)
    ingestAvailable(store, run.id, join(run.runDir, 'metrics.jsonl'), gone)
    if (!gone) continue
    // Another mlx may have finished it meanwhile.
    const now = store.getRun(run.id)
    if (now?.status !== 'running') continue
    recordOutcome(
      store,
      now,
      jobEnd ?? unknownOutcome(store, now),
      now.stopRequestedAt !== null,
      jobEnd?.endedAt ?? lastWrite(now),
    )
    finished++
  }
  return finished
}

/** A local process that ended with nobody waiting for it: what its metrics say of how it went. */
function unknownOutcome(store: Store, run: RunRecord): ProcessOutcome {
  const ended = store.events(run.id, true).some((event) => event.event === 'end')
  if (ended) return {exitCode: 0, signal: null}
  const detail =
    run.stopRequestedAt !== null
      ? 'stopped by mlx stop'
      : 'the training process ended while no mlx was following it; its exit status is unknown (see stderr.log)'
  return {exitCode: null, signal: null, detail}
}

/** When the run's process last wrote to its files: the best word there is for when it ended unobserved. */
function lastWrite(run: RunRecord): number {
  const times = ['metrics.jsonl', 'stdout.log', 'stderr.log'].flatMap((file) => {
    try {
      return [statSync(join(run.runDir, file)).mtimeMs / 1000]
    } catch {
      return []
    }
  })
  return Math.min(Date.now() / 1000, Math.max(run.createdAt, ...times))
}
