/**
 * Runs whose follower went away: when mlx itself was killed while a run trained, the
 * run stays `running` in the index while the trainer goes on writing metrics.jsonl.
 * Every command that reads runs first catches such runs up: it ingests the lines
 * written since (nothing written is lost) and, once the trainer's process is gone,
 * records an outcome: `completed` when the script logged its `end` event, `interrupted`
 * when mlx stop asked it to stop, else `failed` (its exit status cannot be known without
 * the process that waited for it).
 */
import {existsSync, readFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {join} from 'node:path'
import type {Store} from '../store/store.js'
import {ingestAvailable} from './ingest.js'

/** Whether a process runs. A zombie (ended, never reaped: its parent mlx was killed) does not. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch (error) {
    // Without /proc (not Linux) the signal check is all there is; a vanished entry means it just ended.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync('/proc/self')
  }
}

/** Returns how many runs it finished. Runs started on other hosts are left as they are. */
export function reconcileRuns(store: Store): number {
  let finished = 0
  const here = hostname()
  for (const run of store.listRuns({status: ['running']})) {
    if (run.host !== here) continue
    const processGone = run.pid === null || !processAlive(run.pid)
    ingestAvailable(store, run.id, join(run.runDir, 'metrics.jsonl'), processGone)
    if (!processGone) continue
    // Another mlx may have finished it meanwhile.
    if (store.getRun(run.id)?.status !== 'running') continue
    const ended = store.events(run.id, true).some((event) => event.event === 'end')
    const stopped = run.stopRequestedAt !== null
    store.finishRun(run.id, {
      status: ended ? 'completed' : stopped ? 'interrupted' : 'failed',
      endedAt: Date.now() / 1000,
      exitCode: null,
      signal: null,
      error: ended ? null : stopped ? 'stopped by mlx stop' : 'the training process ended while no mlx was following it; its exit status is unknown (see stderr.log)',
    })
    finished++
  }
  return finished
}
