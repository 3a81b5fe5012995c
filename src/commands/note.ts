import {Args} from '@oclif/core'
import type {RunNote} from '../core/store/store.js'
import {MlxCommand} from '../base-command.js'
import {withRuns} from '../core/store/with-runs.js'

export default class Note extends MlxCommand {
  static override summary =
    'Add a note to a run after the fact, or list its notes; show, runs and --where note ~ ... read them.'
  static override examples = [
    '<%= config.bin %> note 3fa9 "overfits after epoch 12; try dropout 0.3"',
    '<%= config.bin %> note 3fa9',
    '<%= config.bin %> compare --where "note ~ \'*overfit*\'"',
  ]
  static override strict = false
  static override args = {
    run: Args.string({description: 'run id, unique id prefix, or name', required: true}),
    text: Args.string({description: 'the note (words after RUN are joined by spaces); none lists the notes'}),
  }

  async run(): Promise<{id: string; notes: RunNote[]}> {
    const {argv} = await this.parse(Note)
    const [ref, ...words] = argv as string[]
    const [{addNote}, {noteLine}] = await Promise.all([
      import('../core/run/manage.js'),
      import('../core/report/numbers.js'),
    ])
    return withRuns(
      ({store}) => {
        const run = store.resolveRun(ref!)
        const notes = words.length === 0 ? run.notes : addNote(store, run, words.join(' '))
        if (words.length === 0) this.log(notes.length === 0 ? `${run.id}: no notes` : notes.map(noteLine).join('\n'))
        else this.say(`${run.id}: ${notes.length} note${notes.length === 1 ? '' : 's'}`)
        return {id: run.id, notes}
      },
      words.length === 0 ? 'read' : 'write',
    )
  }
}
