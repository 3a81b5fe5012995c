/**
 * The followed run's side of the index: its metrics.jsonl ingested as it grows, its end
 * recorded. The index can fail under a run (a damaged mlx.db, a full disk): the run is then
 * followed on from its file, never abandoned, its end recorded in run.json through an index of
 * that one run made in memory from its files, and the problem kept for the caller to report.
 * The metrics file holds everything: the next command that can write the index catches it up.
 */
import {join} from 'node:path'
import {excerpt} from '../errors.js'
import type {ProcessOutcome} from '../launch/launcher.js'
import {parseMetricsLine, type EventRecord, type MetricsRecord} from '../metrics/parse.js'
import {readNewLines} from '../metrics/tail.js'
import {ingestAvailable} from '../store/ingest.js'
import {INDEX_FILE, openRunInMemory, storeFailure} from '../store/open.js'
import type {RunRecord, Store} from '../store/store.js'
import {recordOutcome} from './outcome.js'

/** What went wrong with the index while a run trained, and what became of the run's record. */
export interface IndexProblem {
  /** SQLite's or the file system's words, with the file. */
  message: string
  /** Whether run.json holds the run's end (false: the disk refused it too). */
  recorded: boolean
}

export class RunIndexer {
  private problem: {message: string} | null = null
  private recorded = true
  /** Where reading the file goes on from once the index has failed. */
  private fileOffset = 0

  constructor(
    private readonly store: Store,
    private run: RunRecord,
    private readonly onRecords: (records: Array<MetricsRecord | EventRecord>) => void,
  ) {
    this.attempt(() => {
      this.fileOffset = store.ingestOffset(run.id)
    })
  }

  get metricsFile(): string {
    return join(this.run.runDir, 'metrics.jsonl')
  }

  /** Runs a write to the index; a failure is kept, never thrown: the run goes on. */
  attempt(work: () => void): void {
    if (this.problem !== null) return
    try {
      work()
    } catch (error) {
      const failure = storeFailure(error, join(this.store.dir, INDEX_FILE))
      this.problem = {message: excerpt((failure as Error).message ?? String(failure), 500)}
    }
  }

  /** The record as the index has it, or as this follower last knew it. */
  current(): RunRecord {
    this.attempt(() => {
      this.run = this.store.getRun(this.run.id) ?? this.run
    })
    return this.run
  }

  /** Everything new in metrics.jsonl: into the index, or (once it has failed) read for progress only. */
  catchUp(final: boolean): void {
    this.attempt(() => {
      this.fileOffset = ingestAvailable(this.store, this.run.id, this.metricsFile, final, this.onRecords)
    })
    if (this.problem === null) return
    const tail = readNewLines(this.metricsFile, this.fileOffset, final)
    const records = tail.lines.flatMap((line) => {
      const parsed = parseMetricsLine(line.text)
      return parsed.ok ? [parsed.record] : []
    })
    this.fileOffset = tail.torn?.endOffset ?? tail.lines.at(-1)?.endOffset ?? this.fileOffset
    if (records.length > 0) this.onRecords(records)
  }

  /** Records how the run ended; where the index has failed, in run.json through a one-run index in memory. */
  async finish(outcome: ProcessOutcome, interrupted: boolean): Promise<{record: RunRecord; store: Store}> {
    if (this.problem === null) {
      let record: RunRecord | undefined
      this.attempt(() => {
        record = recordOutcome(this.store, this.run, outcome, interrupted)
      })
      if (record) return {record, store: this.store}
    }
    const scratch = await openRunInMemory(this.store.dir, this.run)
    try {
      return {record: recordOutcome(scratch, scratch.getRun(this.run.id)!, outcome, interrupted), store: scratch}
    } catch {
      // run.json could not be written either (a full disk): the outcome stands in memory only.
      this.recorded = false
      return {record: scratch.getRun(this.run.id)!, store: scratch}
    }
  }

  /** What went wrong with the index during the run, if anything. */
  indexProblem(): IndexProblem | null {
    return this.problem === null ? null : {message: this.problem.message, recorded: this.recorded}
  }
}
