/** Reads a run's metrics.jsonl independently of mlx's parser, to check the store against it. */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {openStore} from '../../src/core/store/open.js'

export interface MetricRow {
  line: number
  key: string
  step: number
  value: number | null
}

/**
 * Every numeric value of every valid metrics line, in file order (NaN as null, as SQLite
 * stores it). A `resume` event drops the values logged before it at steps after its
 * `from_step`: the resumed run logs them again (docs/metrics.md).
 */
export function metricsInFile(runDir: string): MetricRow[] {
  const rows: MetricRow[] = []
  const text = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
  const lines = text.split('\n')
  if (!text.endsWith('\n')) lines.pop() // a torn last line is not a record
  lines.forEach((line, index) => {
    let record: {
      v?: number
      kind?: string
      event?: string
      from_step?: number
      step?: number
      values?: Record<string, unknown>
    }
    try {
      record = JSON.parse(line)
    } catch {
      return
    }
    if (record.v === 1 && record.kind === 'event' && record.event === 'resume' && Number.isInteger(record.from_step)) {
      rows.splice(0, rows.length, ...rows.filter((row) => row.step <= record.from_step!))
      return
    }
    if (record.v !== 1 || record.kind !== 'metrics' || !record.values) return
    for (const [key, value] of Object.entries(record.values)) {
      if (typeof value === 'number') rows.push({line: index + 1, key, step: record.step!, value})
      else if (value === 'NaN') rows.push({line: index + 1, key, step: record.step!, value: null})
      else if (value === 'Infinity' || value === '-Infinity')
        rows.push({line: index + 1, key, step: record.step!, value: value === 'Infinity' ? Infinity : -Infinity})
    }
  })
  return rows
}

export async function metricsInStore(storeDir: string, runId: string): Promise<MetricRow[]> {
  const store = await openStore(storeDir)
  try {
    return store.metrics(runId).map(({line, key, step, value}) => ({line, key, step, value}))
  } finally {
    store.close()
  }
}

/** The pid of a run's training process, as mlx recorded it when it started it. */
export async function trainerPid(storeDir: string, runId: string): Promise<number | null> {
  const store = await openStore(storeDir)
  try {
    return store.getRun(runId)?.pid ?? null
  } finally {
    store.close()
  }
}
