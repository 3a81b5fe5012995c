import {Flags} from '@oclif/core'
import {RUN_STATUSES, type RunStatus} from '../core/store/status.js'
import {MlxCommand} from './base.js'
import {withRuns} from './open.js'


export interface RunListEntry {
  id: string
  name: string
  task: string
  status: RunStatus
  startedAt: string
  durationSeconds: number | null
  primary: {key: string; goal: 'min' | 'max' | null; best: number | null; last: number | null}
}

export default class Runs extends MlxCommand {
  static override summary = 'List runs, newest first: id, name, status, started, duration, primary metric.'
  static override examples = ['<%= config.bin %> runs', '<%= config.bin %> runs --status failed --name "digits-*"', '<%= config.bin %> runs --tag baseline']
  static override flags = {
    status: Flags.string({description: 'only runs with this status; repeatable', options: [...RUN_STATUSES], multiple: true}),
    name: Flags.string({description: 'only runs whose name matches this glob (digits-*)'}),
    tag: Flags.string({description: "only runs with this tag (the config's tags); repeatable: all must match", multiple: true}),
    since: Flags.string({description: 'only runs started since: a duration (30m, 2h, 3d, 1w) or a date (2026-11-29)'}),
    limit: Flags.integer({description: 'at most N runs', min: 1, default: 50}),
  }

  async run(): Promise<RunListEntry[]> {
    const {flags} = await this.parse(Runs)
    const [{durationOf}, {parseSince}] = await Promise.all([import('../core/compare.js'), import('../core/since.js')])
    const since = flags.since === undefined ? undefined : parseSince(flags.since)
    const entries: RunListEntry[] = await withRuns(({store}) => {
      const runs = store.listRuns({status: flags.status as RunStatus[] | undefined, name: flags.name, tags: flags.tag, since, limit: flags.limit})
      const summaries = store.summaries(
        runs.map((run) => run.id),
        [...new Set(runs.map((run) => run.primaryMetric))],
      )
      return runs.map((run) => {
        const summary = summaries.get(run.id)?.find((s) => s.key === run.primaryMetric)
        const best = !summary ? null : run.primaryGoal === 'min' ? summary.min : run.primaryGoal === 'max' ? summary.max : null
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
    })
    if (this.jsonEnabled()) return entries
    if (entries.length === 0) {
      this.say('no runs yet: `mlx run CONFIG` starts one')
      return entries
    }
    const [{formatDuration, formatNumber}, {NAME_KEEP_WIDTH}, {printTable}] = await Promise.all([import('../core/numbers.js'), import('../core/format.js'), import('../ui/print.js')])
    const started = (iso: string) => iso.slice(0, 19).replace('T', ' ')
    printTable(
      {
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
      `${entries.length} run${entries.length === 1 ? '' : 's'}; mlx show RUN for one, mlx compare to compare`,
    )
    return entries
  }
}
