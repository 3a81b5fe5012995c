import {Args, Flags} from '@oclif/core'
import {UserError} from '../core/errors.js'
import {MlxCommand} from '../base-command.js'
import {withRuns} from '../core/store/with-runs.js'

export default class Tag extends MlxCommand {
  static override summary = 'Add tags to a run, or remove them with --remove; runs --tag and compare --tag find them.'
  static override examples = [
    {description: 'Tag a run', command: '<%= config.bin %> tag 3fa9 baseline'},
    {description: 'Add one tag and remove another', command: '<%= config.bin %> tag 3fa9 best --remove baseline'},
    {description: 'Remove a tag (-TAG does too)', command: '<%= config.bin %> tag 3fa9 -r baseline'},
    {description: "List a run's tags", command: '<%= config.bin %> tag 3fa9'},
  ]
  static override strict = false
  static override args = {
    run: Args.string({description: 'run id, unique id prefix, or name', required: true}),
    tags: Args.string({description: 'tags to add'}),
  }
  static override flags = {
    remove: Flags.string({
      char: 'r',
      description: 'a tag to remove; repeatable',
      multiple: true,
      multipleNonGreedy: true,
    }),
  }

  async run(): Promise<{id: string; tags: string[]}> {
    // `-TAG` (the older spelling of --remove TAG) is not a flag: oclif would refuse it as an unknown one.
    const removals = this.argv.filter((arg) => /^-[^-]./.test(arg)).map((arg) => arg.slice(1))
    this.argv = this.argv.filter((arg) => !/^-[^-]./.test(arg))
    const {argv, flags} = await this.parse(Tag)
    flags.remove = [...(flags.remove ?? []), ...removals]
    const [ref, ...changes] = argv as string[]
    const empty = [...changes, ...(flags.remove ?? [])].find((tag) => tag.replace(/^-/, '').trim() === '')
    if (empty !== undefined) throw new UserError('a tag cannot be empty', 'for example: mlx tag RUN baseline')
    const {retag} = await import('../core/run/manage.js')
    const write = changes.length > 0 || (flags.remove ?? []).length > 0
    return withRuns(
      ({store}) => {
        const run = store.resolveRun(ref!)
        const tags = write ? retag(store, run, changes, flags.remove ?? []) : run.tags
        this.say(`${run.id}: ${tags.length > 0 ? tags.join(', ') : 'no tags'}`)
        return {id: run.id, tags}
      },
      write ? 'write' : 'read',
    )
  }
}
