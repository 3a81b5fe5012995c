/** `mlx runs`: runs newest first, each with its primary metric (best, else last). */
import type {RunKind, RunNote, RunStatus, Store} from '../store/store.js'
import {durationOf} from './compare.js'
import {distinguishingWidth, NAME_KEEP_WIDTH, type Table} from './format.js'
import {formatBytes, formatDuration, formatNumber} from './numbers.js'
import {diskUsage} from '../files.js'

export interface RunListEntry {
  id: string
  name: string
  task: string
  /** train, or profile (mlx profile: a few steps under torch.profiler). */
  kind: RunKind
  status: RunStatus
  startedAt: string
  durationSeconds: number | null
  primary: {key: string; goal: 'min' | 'max' | null; best: number | null; last: number | null}
  tags: string[]
  notes: RunNote[]
  /** Bytes the run's directory takes on disk (checkpoints included). */
  diskBytes: number
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
      kind: run.kind,
      status: run.status,
      startedAt: new Date(run.createdAt * 1000).toISOString(),
      durationSeconds: durationOf(run),
      primary: {key: run.primaryMetric, goal: run.primaryGoal, best, last: summary?.last ?? null},
      tags: run.tags,
      notes: run.notes,
      diskBytes: diskUsage(run.runDir),
    }
  })
}

/** The list as a table, and the line under it; tags and the latest note as columns when any run has them. */
export function runListTable(entries: readonly RunListEntry[]): {table: Table; legend: string} {
  const started = (iso: string) => iso.slice(0, 19).replace('T', ' ')
  const withTags = entries.some((e) => e.tags.length > 0)
  const withNotes = entries.some((e) => e.notes.length > 0)
  const labels = [...(withTags ? ['tags'] : []), ...(withNotes ? ['note (latest)'] : [])]
  return {
    table: {
      headers: ['run', 'name', 'status', 'started (UTC)', 'duration', 'disk', 'primary metric (best)', ...labels],
      shrinkable: [false, true, false, false, false, false, true, ...labels.map(() => true)],
      keepWidth: [0, NAME_KEEP_WIDTH, 0, 0, 0, 0, 0, ...labels.map(() => 12)],
      minWidth: [0, distinguishingWidth(entries.map((e) => e.name)), 0, 0, 0, 0, 0, ...labels.map(() => 0)],
      // A narrow terminal drops notes and tags, the start time, the duration, then the status; never the id, name or metric.
      dropRank: [
        undefined,
        undefined,
        3,
        1,
        2,
        undefined,
        ...labels.map((_, at) => (at === labels.length - 1 ? 0 : 1)),
      ],
      frozen: 2,
      leftOutHint: 'see all with: mlx runs ... | less -S, or mlx runs --json',
      rows: entries.map((e) => [
        {text: e.id},
        {text: e.kind === 'train' ? e.name : `${e.name} (${e.kind})`},
        {text: e.status, status: e.status},
        {text: started(e.startedAt)},
        {text: formatDuration(e.durationSeconds), align: 'right'},
        {text: formatBytes(e.diskBytes), align: 'right'},
        {text: `${e.primary.key} ${formatNumber(e.primary.best ?? e.primary.last)}`},
        ...(withTags ? [{text: e.tags.join(', ')}] : []),
        ...(withNotes ? [{text: (e.notes.at(-1)?.text ?? '').replace(/\s+/g, ' ')}] : []),
      ]),
    },
    legend: `${entries.length} run${entries.length === 1 ? '' : 's'}; mlx show RUN for one, mlx compare to compare`,
  }
}
