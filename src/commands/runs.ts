import {Flags} from '@oclif/core'
import type {RunStatus} from '../core/store/status.js'
import {MlxCommand, runFilterFlags} from '../base-command.js'
import type {RunListEntry} from '../core/report/run-list.js'
import {withRuns} from '../core/store/with-runs.js'

export default class Runs extends MlxCommand {
  static override summary = 'List runs, newest first: id, name, status, started, duration, primary metric.'
  static override examples = [
    '<%= config.bin %> runs',
    '<%= config.bin %> runs --status failed --name "digits-*"',
    '<%= config.bin %> runs --tag baseline',
  ]
  static override flags = {
    ...runFilterFlags,
    name: Flags.string({description: 'only runs whose name matches this glob (digits-*)'}),
    since: Flags.string({description: 'only runs started since: a duration (30m, 2h, 3d, 1w) or a date (2026-11-29)'}),
    limit: Flags.integer({description: 'at most N runs', min: 1, default: 50}),
  }

  async run(): Promise<RunListEntry[]> {
    const {flags} = await this.parse(Runs)
    const [{listRuns, runListTable}, {parseSince}] = await Promise.all([
      import('../core/report/run-list.js'),
      import('../core/report/since.js'),
    ])
    const since = flags.since === undefined ? undefined : parseSince(flags.since)
    const filter = {
      status: flags.status as RunStatus[] | undefined,
      name: flags.name,
      tags: flags.tag,
      since,
      limit: flags.limit,
    }
    const entries = await withRuns(({store}) => listRuns(store, filter))
    if (this.jsonEnabled()) return entries
    if (entries.length === 0) {
      this.say('no runs yet: `mlx run CONFIG` starts one')
      return entries
    }
    const {table, legend} = runListTable(entries)
    ;(await import('../ui/print.js')).printTable(table, legend)
    return entries
  }
}
