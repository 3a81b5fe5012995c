import {Args} from '@oclif/core'
import {MlxCommand} from '../base-command.js'
import {withRuns} from '../core/store/with-runs.js'

export default class Rename extends MlxCommand {
  static override summary = "Rename a run (its id stays; the experiment config's name is unchanged)."
  static override examples = ['<%= config.bin %> rename 3fa9 digits-lr-0.003']
  static override args = {
    run: Args.string({description: 'run id, unique id prefix, or name', required: true}),
    name: Args.string({description: 'the new name', required: true}),
  }

  async run(): Promise<{id: string; name: string}> {
    const {args} = await this.parse(Rename)
    const {renameRun} = await import('../core/run/manage.js')
    return withRuns(({store}) => {
      const run = store.resolveRun(args.run)
      renameRun(store, run, args.name)
      this.say(`${run.id}: ${run.name} -> ${args.name}`)
      return {id: run.id, name: args.name}
    }, 'write')
  }
}
