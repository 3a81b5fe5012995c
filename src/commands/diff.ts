import {Args} from '@oclif/core'
import type {RunDiff} from '../core/report/diff.js'
import {MlxCommand} from '../base-command.js'
import {UserError} from '../core/errors.js'
import {withRuns} from '../core/store/with-runs.js'

export default class Diff extends MlxCommand {
  static override summary =
    "Two runs side by side: the config values that differ, and each metric's best and last with the change."
  static override examples = ['<%= config.bin %> diff 3fa9 b71c']
  static override args = {
    a: Args.string({description: 'first run (id, id prefix or name)', required: true}),
    b: Args.string({description: 'second run', required: true}),
  }

  async run(): Promise<RunDiff> {
    const {args} = await this.parse(Diff)
    const {describeDiff, diffRuns} = await import('../core/report/diff.js')
    const diff = await withRuns(({store}) => {
      const [a, b] = [store.resolveRun(args.a), store.resolveRun(args.b)]
      if (a.id === b.id)
        throw new UserError(
          `${JSON.stringify(args.a)} and ${JSON.stringify(args.b)} are the same run, ${a.id}`,
          'name two runs (mlx runs lists them)',
        )
      const summaries = store.summaries([a.id, b.id])
      return diffRuns(a, summaries.get(a.id) ?? [], b, summaries.get(b.id) ?? [])
    })
    if (!this.jsonEnabled()) this.log(describeDiff(diff))
    return diff
  }
}
