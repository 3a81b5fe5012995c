/** Run records and metric summaries as the store gives them, for tests of what is computed from them. */
import type {MetricSummary, RunRecord} from '../../src/core/store/store.js'

/** A completed image-classification run selected on val/acc (max), with `fields` over it. */
export function runRecord(fields: Partial<RunRecord> & Pick<RunRecord, 'id'>): RunRecord {
  return {
    name: `run-${fields.id}`,
    task: 'image-classification',
    status: 'completed',
    createdAt: 1000,
    endedAt: 1010,
    exitCode: 0,
    signal: null,
    pid: 1,
    host: 'h',
    runDir: `/runs/${fields.id}`,
    config: {},
    primaryMetric: 'val/acc',
    primaryGoal: 'max',
    tags: [],
    notes: [],
    error: null,
    ingest: {lines: 0, badLines: 0, tornLines: 0, skippedValues: 0, lastProblem: null},
    launch: {launcher: 'local', worldSize: 1, nodes: 1},
    stopRequestedAt: null,
    jobId: null,
    follower: null,
    trial: null,
    kind: 'train',
    ...fields,
  }
}

/** The summary of a metric logged at steps 1, 2, 3... with `values`. */
export function summaryOf(key: string, values: number[]): MetricSummary {
  const min = Math.min(...values)
  const max = Math.max(...values)
  return {
    key,
    count: values.length,
    last: values.at(-1)!,
    lastStep: values.length,
    min,
    minStep: values.indexOf(min) + 1,
    max,
    maxStep: values.indexOf(max) + 1,
  }
}
