import {Args} from '@oclif/core'
import {MlxCommand} from '../base-command.js'
import {withRuns} from '../core/store/with-runs.js'

export default class Tag extends MlxCommand {
  static override summary = 'Add tags to a run (or remove them: -TAG); mlx runs --tag and compare --tag find them.'
  static override examples = ['<%= config.bin %> tag 3fa9 baseline', '<%= config.bin %> tag 3fa9 -- -baseline best']
  static override strict = false
  static override args = {
    run: Args.string({description: 'run id, unique id prefix, or name', required: true}),
    tags: Args.string({description: 'tags to add; -TAG removes one (after --)'}),
  }

  async run(): Promise<{id: string; tags: string[]}> {
    const {argv} = await this.parse(Tag)
    const [ref, ...changes] = argv as string[]
    const {retag} = await import('../core/run/manage.js')
    return withRuns(({store}) => {
      const run = store.resolveRun(ref!)
      const tags = retag(store, run, changes)
      this.say(`${run.id}: ${tags.length > 0 ? tags.join(', ') : 'no tags'}`)
      return {id: run.id, tags}
    }, 'write')
  }
}
