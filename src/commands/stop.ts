import {Args, Flags} from '@oclif/core'
import type {StopResult} from '../core/run/stop.js'
import {MlxCommand} from '../base-command.js'
import {withRuns} from '../core/store/with-runs.js'

export default class Stop extends MlxCommand {
  static override summary =
    'Stop a running run as Ctrl-C would: SIGINT (it saves a checkpoint and exits), SIGKILL after a grace period.'
  static override description = `Works from any terminal on the machine the run trains on, for runs of any launcher (for torchrun, every worker is stopped). The run ends interrupted, with what it logged kept; mlx resume RUN continues it from its checkpoint.`
  static override examples = ['<%= config.bin %> stop 3fa9', '<%= config.bin %> stop digits-cnn --grace 30']
  static override args = {
    run: Args.string({description: 'run id, unique id prefix, or name', required: true}),
  }
  static override flags = {
    grace: Flags.integer({
      description: 'seconds the run gets to save and exit before it is killed',
      default: 10,
      min: 0,
    }),
  }

  async run(): Promise<StopResult> {
    const {args, flags} = await this.parse(Stop)
    const {stopRun} = await import('../core/run/stop.js')
    return withRuns(async ({store}) => {
      const result = await stopRun(store, args.run, {
        graceMs: flags.grace * 1000,
        onKill: () => this.say(`the run did not stop within ${flags.grace} s: killing it`),
      })
      this.say(`${result.id} (${result.name}): ${result.status}`)
      return result
    }, 'write')
  }
}
