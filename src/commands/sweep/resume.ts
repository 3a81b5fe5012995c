import {Args} from '@oclif/core'
import {MlxCommand} from '../../base-command.js'
import type {SweepComparison} from '../../core/sweep/report.js'

export default class SweepResume extends MlxCommand {
  static override summary = 'Continue a sweep that was interrupted or killed, up to its trial budget.'
  static override description = `Finished trials are kept; runs still going under a follower that is gone are stopped with a checkpoint; interrupted runs continue from their latest checkpoint (as mlx resume does); the sampler is rebuilt from the trials in the store; new trials are numbered after the highest there is, until the budget is reached.`
  static override examples = ['<%= config.bin %> sweep resume digits-sweep']
  static override args = {name: Args.string({description: "the sweep's name (mlx sweeps lists them)", required: true})}

  async run(): Promise<SweepComparison> {
    const {args} = await this.parse(SweepResume)
    const [{withRuns}, {prepareSweepResume}, {followSweep, sweepObserver}] = await Promise.all([
      import('../../core/store/with-runs.js'),
      import('../../core/sweep/api.js'),
      import('../../ui/sweep-follow.js'),
    ])
    return withRuns(async ({project, store}) => {
      const launch = await prepareSweepResume(
        project,
        store,
        args.name,
        sweepObserver((line) => this.say(line)),
      )
      this.say(`resuming sweep ${launch.runner.spec.name} (${launch.runner.spec.trials} trials in all)`)
      return followSweep(launch, store, {
        log: (line) => this.log(line),
        say: (line) => this.say(line),
        json: this.jsonEnabled(),
      })
    }, 'write')
  }
}
