import {Args, Flags} from '@oclif/core'
import {createInterface} from 'node:readline/promises'
import {UserError} from '../core/errors.js'
import {MlxCommand} from '../base-command.js'
import {withRuns} from '../core/store/with-runs.js'

export default class Rm extends MlxCommand {
  static override summary = 'Remove runs: their directories (checkpoints included) and their rows in the store.'
  static override description = 'Asks first in a terminal; elsewhere --yes is required. A running run is never removed.'
  static override examples = ['<%= config.bin %> rm 3fa9 b71c', '<%= config.bin %> rm digits-cnn --yes']
  static override strict = false
  static override args = {
    run: Args.string({description: 'runs to remove (id, id prefix or name)', required: true}),
  }
  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'do not ask'}),
  }

  async run(): Promise<{removed: string[]}> {
    const {argv, flags} = await this.parse(Rm)
    const {removeRuns} = await import('../core/run/manage.js')
    return withRuns(async ({store}) => {
      const runs = [
        ...new Map(
          (argv as string[]).map((ref) => store.resolveRun(ref, 'unique')).map((run) => [run.id, run]),
        ).values(),
      ]
      const list = runs.map((run) => `${run.id} (${run.name}, ${run.status})`).join(', ')
      if (!flags.yes) {
        if (!process.stdin.isTTY) throw new UserError(`removing ${list} needs confirmation`, 'pass --yes')
        const prompt = createInterface({input: process.stdin, output: process.stderr})
        const answer = await prompt.question(
          `remove ${list} and everything in ${runs.length === 1 ? 'its directory' : 'their directories'}? [y/N] `,
        )
        prompt.close()
        if (!/^y(es)?$/i.test(answer.trim())) throw new UserError('nothing was removed')
      }
      removeRuns(store, runs)
      this.say(`removed ${list}`)
      return {removed: runs.map((run) => run.id)}
    }, 'write')
  }
}
