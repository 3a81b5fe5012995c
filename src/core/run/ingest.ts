/** Catching the store up with a run's metrics.jsonl (the follower of a run, and reconcileRuns). */
import {readNewLines} from '../metrics/tail.js'
import type {IngestBatch, Store} from '../store/store.js'

/** Ingests whatever metrics.jsonl holds past the stored offset; `final` once the writer has ended. */
export function ingestAvailable(store: Store, runId: string, metricsFile: string, final: boolean): IngestBatch | null {
  const offset = store.ingestOffset(runId)
  const read = readNewLines(metricsFile, offset, final)
  if (read.lines.length === 0 && !read.torn) return null
  return store.ingest(runId, offset, read.lines, read.torn)
}
