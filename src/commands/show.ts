import {Args, Flags} from '@oclif/core'
import type {ShowResult} from '../core/report/run-report.js'
import {withRuns} from '../core/store/with-runs.js'
import {MlxCommand} from '../base-command.js'

export default class Show extends MlxCommand {
  static override summary =
    'Show one run: status, summary metrics, config, environment, artifacts, the end of its logs.'
  static override examples = ['<%= config.bin %> show 3fa9', '<%= config.bin %> show digits-cnn --json']
  static override args = {
    run: Args.string({
      description: 'run id, unique id prefix, or name (the newest run of that name; stderr says which)',
      required: true,
    }),
  }
  static override flags = {
    lines: Flags.integer({description: 'log lines to show', default: 10, min: 0}),
    chart: Flags.string({
      description: "metric to draw as a line chart; repeatable (default: the run's primary metric)",
      multiple: true,
    }),
  }

  async run(): Promise<ShowResult> {
    const {args, flags} = await this.parse(Show)
    const {describeRun, showRun} = await import('../core/report/run-report.js')
    const {root, result} = await withRuns(({project, store}) => ({
      root: project.root,
      result: showRun(store, args.run, flags.lines),
    }))
    if (!this.jsonEnabled()) this.log(describeRun(result, root, flags.chart ?? [result.primary.key]))
    return result
  }
}
