import {Args, Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {MlxCommand} from './base.js'
import {withRuns} from './open.js'

const STREAMS = ['stdout', 'stderr'] as const

export default class Logs extends MlxCommand {
  static override summary = "Print a run's output (stdout.log, then stderr.log); -f follows it while the run trains."
  static override examples = ['<%= config.bin %> logs 3fa9', '<%= config.bin %> logs 3fa9 --stream stderr -f']
  static override enableJsonFlag = false
  static override args = {
    run: Args.string({description: 'run id, unique id prefix, or name', required: true}),
  }
  static override flags = {
    stream: Flags.string({description: 'only this stream', options: [...STREAMS]}),
    follow: Flags.boolean({char: 'f', description: 'keep printing what the run writes until it ends (Ctrl-C stops following, not the run)'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Logs)
    const streams = flags.stream ? [flags.stream as (typeof STREAMS)[number]] : [...STREAMS]
    const [{reconcileRuns}, {readNewLines}] = await Promise.all([import('../core/run/reconcile.js'), import('../core/metrics/tail.js')])
    await withRuns(async ({store}) => {
      const run = store.resolveRun(args.run)
      const offsets = new Map(streams.map((stream) => [stream, 0]))
      const print = (final: boolean) => {
        for (const stream of streams) {
          const read = readNewLines(join(run.runDir, `${stream}.log`), offsets.get(stream)!, final)
          const out = stream === 'stdout' ? process.stdout : process.stderr
          for (const line of read.lines) out.write(line.text + '\n')
          const last = read.lines.at(-1)?.endOffset ?? offsets.get(stream)!
          offsets.set(stream, read.torn?.endOffset ?? last)
          // A last line without its newline is printed as it is once the run has ended.
          if (read.torn) out.write(`${readTail(join(run.runDir, `${stream}.log`), last)}\n`)
        }
      }
      if (!flags.follow) return print(true)
      let stopped = false
      const stop = () => {
        stopped = true
      }
      process.once('SIGINT', stop)
      try {
        // reconcileRuns notices a run whose follower went away and whose process has ended.
        while (!stopped && (reconcileRuns(store), store.getRun(run.id)?.status === 'running')) {
          print(false)
          await new Promise((resolve) => setTimeout(resolve, 300))
        }
        print(true)
      } finally {
        process.off('SIGINT', stop)
      }
    })
  }
}

function readTail(path: string, from: number): string {
  return readFileSync(path).subarray(from).toString('utf8')
}
