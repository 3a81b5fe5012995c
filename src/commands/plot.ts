import {Args, Flags} from '@oclif/core'
import type {PlotResult} from '../core/report/plot.js'
import {MlxCommand} from '../base-command.js'
import {withRuns} from '../core/store/with-runs.js'

export default class Plot extends MlxCommand {
  static override summary = "Draw the curves of runs' metrics into a PNG, SVG or HTML file, best points marked."
  static override examples = [
    '<%= config.bin %> plot 3fa9 b71c --metric val/acc --out acc.png',
    '<%= config.bin %> plot digits-cnn --metric val/loss --metric train/loss --out losses.html',
  ]
  static override strict = false
  static override args = {
    run: Args.string({description: 'runs to draw (id, id prefix or name)', required: true}),
  }
  static override flags = {
    metric: Flags.string({
      char: 'm',
      description: "metric to draw, one panel each; repeatable (default: the runs' primary metric)",
      multiple: true,
    }),
    out: Flags.string({char: 'o', description: 'file to write: .png, .svg or .html', required: true}),
    python: Flags.string({description: 'Python with matplotlib (default: as mlx run chooses)'}),
  }

  async run(): Promise<PlotResult> {
    const {argv, flags} = await this.parse(Plot)
    const [{plotRuns}, {choosePython}] = await Promise.all([
      import('../core/report/plot.js'),
      import('../core/project/python.js'),
    ])
    const result = await withRuns(({project, store}) => {
      const runs = [
        ...new Map((argv as string[]).map((ref) => store.resolveRun(ref)).map((run) => [run.id, run])).values(),
      ]
      return plotRuns(store, runs, flags.metric ?? [], flags.out, choosePython(project, flags.python))
    })
    this.say(
      `wrote ${result.out} (${result.metrics.join(', ')} of ${result.runs.length} run${result.runs.length === 1 ? '' : 's'})`,
    )
    return result
  }
}
