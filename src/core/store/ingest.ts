/** Catching the index up with a run's metrics.jsonl: the follower of a run, reconcileRuns, and rebuilding the index. */
import type {EventRecord, MetricsRecord} from '../metrics/parse.js'
import {readNewLines} from '../metrics/tail.js'
import type {Store} from './store.js'

/** Lines read and stored in one transaction: a backlog of any size is ingested in bounded memory. */
const BATCH_BYTES = 1024 * 1024

/**
 * Ingests whatever metrics.jsonl holds past the stored offset, batch by batch (`final` once the
 * writer has ended: a partial last line is then torn); `onRecords` sees each batch's records.
 * Returns the byte offset ingestion has reached.
 */
export function ingestAvailable(
  store: Store,
  runId: string,
  metricsFile: string,
  final: boolean,
  onRecords?: (records: Array<MetricsRecord | EventRecord>) => void,
  batchBytes = BATCH_BYTES,
): number {
  for (;;) {
    const offset = store.ingestOffset(runId)
    const tail = readNewLines(metricsFile, offset, final, batchBytes)
    if (tail.lines.length === 0 && !tail.torn) return offset
    const batch = store.ingest(runId, offset, tail.lines, tail.torn)
    // null: another mlx stored this batch meanwhile; the loop reads on from where it left off.
    if (batch && batch.records.length > 0) onRecords?.(batch.records)
    if (!tail.more) return tail.torn?.endOffset ?? tail.lines.at(-1)!.endOffset
  }
}
