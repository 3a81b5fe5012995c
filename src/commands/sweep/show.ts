import {Args} from '@oclif/core'
import {MlxCommand} from '../../base-command.js'
import type {SweepComparison} from '../../core/sweep/report.js'

export default class SweepShow extends MlxCommand {
  static override summary =
    "One sweep: its trials by configuration, the objective's mean ± std, cost, rank, and whether the best really wins."
  static override examples = [
    '<%= config.bin %> sweep show digits-sweep',
    '<%= config.bin %> sweep show digits-sweep --json',
  ]
  static override args = {name: Args.string({description: "the sweep's name (mlx sweeps lists them)", required: true})}

  async run(): Promise<SweepComparison> {
    const {args} = await this.parse(SweepShow)
    const [{withRuns}, {compareSweep, sweepTable}, {printWidth}] = await Promise.all([
      import('../../core/store/with-runs.js'),
      import('../../core/sweep/report.js'),
      import('../../ui/terminal.js'),
    ])
    const comparison = await withRuns(({store}) => compareSweep(store, args.name))
    if (!this.jsonEnabled()) for (const line of sweepTable(comparison, printWidth())) this.log(line)
    return comparison
  }
}
