/**
 * The index rebuilt from the run directories, the source of truth: each run's row from its
 * run.json and config.json, its metrics and events from its metrics.jsonl (ingested as a
 * follower would, so the rebuilt index compares exactly as the lost one did).
 *
 * indexMissingRuns runs at every opening of the store and costs one stat and one count when
 * nothing changed: it looks at the run directories only when the `runs/` folder changed (a run
 * made or removed) or the index holds another number of runs than when it last looked.
 * `mlx store rebuild` (open.ts) moves a damaged index aside and builds a new one with it.
 */
import {existsSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {ingestAvailable} from './ingest.js'
import {readRunDirectory} from './run-file.js'
import {RUNS_DIR, type Store} from './store.js'

export interface IndexReport {
  /** Run ids indexed from their directories. */
  indexed: string[]
  /** Run directories that could not be indexed, and why (no run.json yet, a broken one). */
  skipped: Array<{id: string; problem: string}>
}

/** store_meta: the runs/ folder's modification time and the index's count of runs when last compared. */
const CHECKED = 'runs_dir_checked'

export function indexMissingRuns(store: Store, options: {force?: boolean} = {}): IndexReport {
  const report: IndexReport = {indexed: [], skipped: []}
  const runsDir = join(store.dir, RUNS_DIR)
  if (!existsSync(runsDir)) return report
  // Taken before reading the folder: a run made while it is read changes it again, and is seen next time.
  const changed = String(statSync(runsDir, {bigint: true}).mtimeNs)
  if (!options.force && store.meta(CHECKED) === `${changed}:${store.runCount()}`) return report
  const known = new Set(store.runIds())
  for (const entry of readdirSync(runsDir, {withFileTypes: true})) {
    if (!entry.isDirectory() || known.has(entry.name)) continue
    const runDir = join(runsDir, entry.name)
    const read = readRunDirectory(runDir, entry.name)
    if ('problem' in read) {
      report.skipped.push({id: entry.name, problem: read.problem})
      continue
    }
    // Another mlx may index it at the same moment: the one whose row went in ingests it.
    if (!store.recoverRun(read.run)) continue
    ingestAvailable(store, read.run.id, join(runDir, 'metrics.jsonl'), read.run.status !== 'running')
    store.setAttemptLine(read.run.id)
    report.indexed.push(read.run.id)
  }
  store.setMeta(CHECKED, `${changed}:${store.runCount()}`)
  return report
}
