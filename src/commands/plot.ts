import {Args, Flags} from '@oclif/core'
import type {PlotAxis, PlotResult} from '../core/report/plot.js'
import type {SweepPlots} from '../core/sweep/plot.js'
import {MlxCommand} from '../base-command.js'
import {UserError} from '../core/errors.js'
import {withRuns} from '../core/store/with-runs.js'

export default class Plot extends MlxCommand {
  static override summary =
    "Draw the curves of runs' metrics in the terminal, or into a PNG, SVG or HTML file with the best points marked."
  static override examples = [
    '<%= config.bin %> plot 3fa9 b71c --metric val/acc',
    '<%= config.bin %> plot 3fa9 b71c --metric val/acc --out acc.png',
    '<%= config.bin %> plot digits-cnn --metric train/loss --smooth 0.6 --log-y --x time',
    '<%= config.bin %> plot digits-cnn --metric val/loss --metric train/loss --out losses.html',
    '<%= config.bin %> plot --sweep digits-sweep --out sweep-plots',
  ]
  static override strict = false
  static override args = {
    run: Args.string({description: 'runs to draw (id, id prefix or name)'}),
  }
  static override flags = {
    metric: Flags.string({
      char: 'm',
      description: "metric to draw, one panel each; repeatable (default: the runs' primary metric)",
      multiple: true,
    }),
    out: Flags.string({char: 'o', description: 'file to write: .png, .svg or .html (default: draw in the terminal)'}),
    x: Flags.string({description: 'what the x axis counts', options: ['step', 'epoch', 'time'], default: 'step'}),
    smooth: Flags.string({description: "smoothing weight from 0 (none) to below 1, as TensorBoard's slider"}),
    'log-y': Flags.boolean({description: 'a logarithmic y axis (values at or below 0 are left out)'}),
    python: Flags.string({description: 'Python with matplotlib (default: as mlx run chooses)'}),
    sweep: Flags.string({
      description:
        "draw a sweep instead: its optimisation history, parallel coordinates of params against the objective and the params' importances (Optuna), as PNG and HTML into --out (a folder; default .mlx/sweeps/NAME/plots)",
      exclusive: ['metric', 'x', 'smooth', 'log-y'],
    }),
  }

  async run(): Promise<PlotResult | SweepPlots> {
    const {argv, flags} = await this.parse(Plot)
    if (flags.sweep !== undefined) return this.plotSweep(flags.sweep, flags.out, flags.python)
    if (argv.length === 0)
      throw new UserError('name the runs to draw', 'mlx plot RUN [RUN...], or mlx plot --sweep NAME')
    const [{plotRuns, plotText}, {choosePython}, {terminalSize}] = await Promise.all([
      import('../core/report/plot.js'),
      import('../core/project/python.js'),
      import('../ui/terminal.js'),
    ])
    const smooth = flags.smooth === undefined ? 0 : Number(flags.smooth)
    if (Number.isNaN(smooth))
      throw new UserError(`--smooth ${JSON.stringify(flags.smooth)} is not a number`, 'give a weight such as 0.6')
    const options = {x: flags.x as PlotAxis, smooth, logY: flags['log-y']}
    const {out} = flags
    const result = await withRuns(async ({project, store}) => {
      const runs = [
        ...new Map((argv as string[]).map((ref) => store.resolveRun(ref)).map((run) => [run.id, run])).values(),
      ]
      if (out !== undefined)
        return plotRuns(store, runs, flags.metric ?? [], out, choosePython(project, flags.python), options)
      const columns = process.stdout.isTTY ? terminalSize(process.stdout).columns : 80
      const drawn = plotText(store, runs, flags.metric ?? [], options, columns)
      if (!this.jsonEnabled()) this.log(drawn.text)
      return drawn.result
    })
    if (result.out !== null)
      this.say(
        `wrote ${result.out} (${result.metrics.join(', ')} of ${result.runs.length} run${result.runs.length === 1 ? '' : 's'})`,
      )
    return result
  }

  private async plotSweep(name: string, out: string | undefined, python: string | undefined): Promise<SweepPlots> {
    const [{plotSweep}, {choosePython}, {relative}] = await Promise.all([
      import('../core/sweep/plot.js'),
      import('../core/project/python.js'),
      import('node:path'),
    ])
    const plots = await withRuns(({project, store}) => plotSweep(store, name, choosePython(project, python), out))
    for (const [figure, files] of Object.entries(plots.figures))
      this.say(
        `${figure}: ${Array.isArray(files) ? files.map((file) => relative(process.cwd(), file)).join(', ') : files}`,
      )
    if (plots.importances && typeof plots.importances === 'object')
      this.say(
        `importances: ${Object.entries(plots.importances)
          .map(([param, value]) => `${param} ${value.toFixed(2)}`)
          .join(', ')}`,
      )
    return plots
  }
}
