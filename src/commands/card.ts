import {Args, Flags} from '@oclif/core'
import type {CardResult} from '../core/report/card.js'
import {MlxCommand} from '../base-command.js'
import {withRuns} from '../core/store/with-runs.js'

export default class Card extends MlxCommand {
  static override summary =
    "Write a run's model card (Mitchell et al.): details, intended use, data, metrics with intervals, figures, export, how to reproduce."
  static override description = `Filled from what mlx knows of the run: recipe, architecture, parameters, size, checkpoints, git commit and whether the code was dirty, environment; data source, sizes, split and class balance; metrics with 95% bootstrap intervals from the validation predictions the run saved, per class where it classifies; the figures it saved; export parity and latency (mlx export); the exact command and config that reproduce it. What only people know (intended use, limitations, ethical considerations...) comes from the config's card: section; a section nobody wrote says "Not stated".

Default output: card.md (or card.html) in the run's directory. Exit 2 for a run still running, or one without a checkpoint.`
  static override examples = [
    '<%= config.bin %> card digits-cnn',
    '<%= config.bin %> card 3fa9 --format html --out digits-card.html',
  ]
  static override args = {
    run: Args.string({
      description: 'run id, unique id prefix, or name (the newest run of that name; stderr says which)',
      required: true,
    }),
  }
  static override flags = {
    out: Flags.string({char: 'o', description: "file to write (default: card.md or card.html in the run's directory)"}),
    format: Flags.string({
      description: 'markdown or html (default: from --out, else markdown)',
      options: ['markdown', 'html'],
    }),
    python: Flags.string({description: 'Python with scipy and scikit-learn (default: as mlx run chooses)'}),
  }

  async run(): Promise<CardResult> {
    const {args, flags} = await this.parse(Card)
    const [{writeCard}, {choosePython}] = await Promise.all([
      import('../core/report/card.js'),
      import('../core/project/python.js'),
    ])
    const result = await withRuns(({project, store}) =>
      writeCard(store, args.run, choosePython(project, flags.python), {
        out: flags.out,
        format: flags.format as 'markdown' | 'html' | undefined,
      }),
    )
    this.say(
      `${result.name} (${result.id}): card written to ${result.out}${result.notStated.length > 0 ? ` (not stated: ${result.notStated.join(', ')}; the config's card: section fills them)` : ''}`,
    )
    return result
  }
}
