import {Flags} from '@oclif/core'
import type {RunStatus} from '../core/store/status.js'
import type {TensorBoardLinks} from '../core/run/tensorboard.js'
import {MlxCommand, runFilterFlags} from '../base-command.js'
import {withRuns} from '../core/store/with-runs.js'

export default class TensorBoard extends MlxCommand {
  static override summary = 'Open TensorBoard on the runs, each shown by its name: scalars, HParams, config, figures.'
  static override description = `Links each run as .mlx/tensorboard/<name>-<id> (made again at each call) and starts TensorBoard there with the project's Python, until Ctrl-C. With --no-launch it only makes the links and prints the command. Runs record TensorBoard events unless train.tensorboard is false: every metric, the params (HParams dashboard: one row per run, its final metrics beside them), the run's name and resolved config (Text), and the figures it saved (Images).`
  static override examples = [
    '<%= config.bin %> tensorboard',
    '<%= config.bin %> tensorboard --tag baseline --port 6007',
    '<%= config.bin %> tensorboard --no-launch',
  ]
  static override flags = {
    ...runFilterFlags,
    last: Flags.integer({char: 'l', description: 'only the latest N runs', min: 1}),
    port: Flags.integer({description: "TensorBoard's port", min: 1, max: 65535, default: 6006}),
    launch: Flags.boolean({
      description: 'start TensorBoard (--no-launch: make the links and print the command)',
      default: true,
      allowNo: true,
    }),
    python: Flags.string({description: 'Python interpreter with TensorBoard (default: as mlx run chooses)'}),
  }

  async run(): Promise<TensorBoardLinks & {command: string[]}> {
    const {flags} = await this.parse(TensorBoard)
    const [{linkRuns}, {choosePython}, {shellWord}] = await Promise.all([
      import('../core/run/tensorboard.js'),
      import('../core/project/python.js'),
      import('../core/shell.js'),
    ])
    const {links, python} = await withRuns(({project, store}) => {
      const runs = store.listRuns({status: flags.status as RunStatus[] | undefined, tags: flags.tag, limit: flags.last})
      return {links: linkRuns(store.dir, runs), python: choosePython(project, flags.python)}
    }, 'write')
    const command = [python.command, '-m', 'tensorboard.main', '--logdir', links.logdir, '--port', String(flags.port)]
    this.say(`${links.runs.length} run${links.runs.length === 1 ? '' : 's'} linked in ${links.logdir}`)
    if (!flags.launch || this.jsonEnabled()) {
      this.say(`tensorboard: ${command.map(shellWord).join(' ')}`)
      return {...links, command}
    }
    const {launchTensorBoard} = await import('../core/run/tensorboard-launch.js')
    await launchTensorBoard(command)
    return {...links, command}
  }
}
