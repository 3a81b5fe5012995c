/** `mlx runs`: runs newest first, each with its primary metric (best, else last). */
import type {RunStatus, Store} from '../store/store.js'
import {durationOf} from './compare.js'
import {NAME_KEEP_WIDTH, type Table} from './format.js'
import {formatDuration, formatNumber} from './numbers.js'

export interface RunListEntry {
  id: string
  name: string
  task: string
  status: RunStatus
  startedAt: string
  durationSeconds: number | null
  primary: {key: string; goal: 'min' | 'max' | null; best: number | null; last: number | null}
}

/** The runs `filter` keeps, newest first. */
export function listRuns(store: Store, filter: NonNullable<Parameters<Store['listRuns']>[0]>): RunListEntry[] {
  const runs = store.listRuns(filter)
  const summaries = store.summaries(
    runs.map((run) => run.id),
    [...new Set(runs.map((run) => run.primaryMetric))],
  )
  return runs.map((run) => {
    const summary = summaries.get(run.id)?.find((s) => s.key === run.primaryMetric)
    const best = !summary
      ? null
      : run.primaryGoal === 'min'
        ? summary.min
        : run.primaryGoal === 'max'
          ? summary.max
          : null
    return {
      id: run.id,
      name: run.name,
      task: run.task,
      status: run.status,
      startedAt: new Date(run.createdAt * 1000).toISOString(),
      durationSeconds: durationOf(run),
      primary: {key: run.primaryMetric, goal: run.primaryGoal, best, last: summary?.last ?? null},
    }
  })
}

/** The list as a table, and the line under it. */
export function runListTable(entries: readonly RunListEntry[]): {table: Table; legend: string} {
  const started = (iso: string) => iso.slice(0, 19).replace('T', ' ')
  return {
    table: {
      headers: ['run', 'name', 'status', 'started (UTC)', 'duration', 'primary metric (best)'],
      shrinkable: [false, true, false, false, false, true],
      keepWidth: [0, NAME_KEEP_WIDTH, 0, 0, 0, 0],
      rows: entries.map((e) => [
        {text: e.id},
        {text: e.name},
        {text: e.status, status: e.status},
        {text: started(e.startedAt)},
        {text: formatDuration(e.durationSeconds), align: 'right'},
        {text: `${e.primary.key} ${formatNumber(e.primary.best ?? e.primary.last)}`},
      ]),
    },
    legend: `${entries.length} run${entries.length === 1 ? '' : 's'}; mlx show RUN for one, mlx compare to compare`,
  }
}
