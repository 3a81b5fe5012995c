/**
 * `mlx gc`: disk back from runs that are done. Every run that is not running keeps only its
 * best and last checkpoints (and the one `mlx resume` would take, should that be another);
 * failed, diverged and interrupted runs that ended before a cut-off go whole. Nothing of a
 * running run is touched. Planned first (what `--dry-run` prints), then applied.
 */
import {readdirSync, rmSync} from 'node:fs'
import {diskUsage} from '../files.js'
import {join} from 'node:path'
import type {RunRecord, RunStatus, Store} from '../store/store.js'
import {removeRuns} from './manage.js'
import {latestCheckpoint} from './plan.js'

/** The statuses of runs that `gc` removes once they are older than the cut-off. */
export const REMOVABLE: readonly RunStatus[] = ['failed', 'diverged', 'interrupted']

export interface GcPlan {
  /** Runs removed whole. */
  runs: Array<{id: string; name: string; status: RunStatus; endedAt: string | null; bytes: number}>
  /** Checkpoint files removed from runs that stay, relative to their run's directory. */
  checkpoints: Array<{id: string; path: string; bytes: number}>
  bytes: number
}

/** The checkpoint `mlx resume` would continue from, kept beside best*.pt and last.pt; null when there is none. */
function resumeCheckpoint(store: Store, run: RunRecord): string | null {
  try {
    return latestCheckpoint(store, run)
  } catch {
    return null
  }
}

export function planGc(store: Store, cutoff: number): GcPlan {
  const plan: GcPlan = {runs: [], checkpoints: [], bytes: 0}
  for (const run of store.listRuns({})) {
    if (run.status === 'running') continue
    if (REMOVABLE.includes(run.status) && (run.endedAt ?? run.createdAt) < cutoff) {
      const bytes = diskUsage(run.runDir)
      plan.runs.push({
        id: run.id,
        name: run.name,
        status: run.status,
        endedAt: run.endedAt === null ? null : new Date(run.endedAt * 1000).toISOString(),
        bytes,
      })
      plan.bytes += bytes
      continue
    }
    const folder = join(run.runDir, 'checkpoints')
    let files: string[]
    try {
      files = readdirSync(folder)
    } catch {
      continue
    }
    const resumed = resumeCheckpoint(store, run)
    for (const file of files.sort()) {
      const path = join('checkpoints', file)
      if (/^best.*\.pt$/.test(file) || file === 'last.pt' || path === resumed) continue
      if (!/\.pt$|\.partial$/.test(file)) continue // only checkpoints (and torn saves) go
      const bytes = diskUsage(join(run.runDir, path))
      plan.checkpoints.push({id: run.id, path, bytes})
      plan.bytes += bytes
    }
  }
  return plan
}

export function applyGc(store: Store, plan: GcPlan): void {
  const runs = plan.runs.map((run) => store.getRun(run.id)).filter((run): run is RunRecord => run !== undefined)
  removeRuns(store, runs)
  for (const checkpoint of plan.checkpoints) {
    const run = store.getRun(checkpoint.id)
    if (run && run.status !== 'running') rmSync(join(run.runDir, checkpoint.path), {force: true})
  }
}
