import {Args, Flags} from '@oclif/core'
import {MlxCommand} from '../base-command.js'
import {withRuns} from '../core/store/with-runs.js'

const STREAMS = ['stdout', 'stderr'] as const
type Stream = (typeof STREAMS)[number]

export default class Logs extends MlxCommand {
  static override summary = "Print a run's output (stdout.log, then stderr.log); -f follows it while the run trains."
  static override examples = ['<%= config.bin %> logs 3fa9', '<%= config.bin %> logs 3fa9 --stream stderr -f']
  static override enableJsonFlag = false
  static override args = {
    run: Args.string({description: 'run id, unique id prefix, or name', required: true}),
  }
  static override flags = {
    stream: Flags.string({description: 'only this stream', options: [...STREAMS]}),
    follow: Flags.boolean({
      char: 'f',
      description: 'keep printing what the run writes until it ends (Ctrl-C stops following, not the run)',
    }),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Logs)
    const streams = flags.stream ? [flags.stream as Stream] : [...STREAMS]
    const {printLogs} = await import('../core/report/logs.js')
    await withRuns(({store}) => printLogs(store, store.resolveRun(args.run), streams, flags.follow))
  }
}
