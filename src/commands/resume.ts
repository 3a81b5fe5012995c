import {Args, Flags} from '@oclif/core'
import type {RunReport} from '../core/report/run-report.js'
import {MlxCommand} from '../base-command.js'
import {withRuns} from '../core/store/with-runs.js'

export default class Resume extends MlxCommand {
  static override summary = 'Continue a stopped run from its latest checkpoint, in the same run.'
  static override description = `An interrupted, failed, diverged or completed run continues where its latest checkpoint left it: the same run id and directory, its metrics appended (values logged after that checkpoint are replaced, never duplicated). On the CPU with the same seed, a resumed run logs exactly the losses of an uninterrupted one. Raise train.epochs with --set to train a finished run longer.

Exit codes as for mlx run.`
  static override examples = [
    '<%= config.bin %> resume 3fa9',
    '<%= config.bin %> resume digits-cnn --set train.epochs=30',
  ]
  static override args = {
    run: Args.string({
      description: 'run id, unique id prefix, or name (the newest run of that name; stderr says which)',
      required: true,
    }),
  }
  static override flags = {
    set: Flags.string({
      char: 's',
      description: "override a value of the run's config: KEY.PATH=VALUE (VALUE is YAML); repeatable",
      multiple: true,
    }),
    python: Flags.string({description: 'Python interpreter to train with'}),
  }

  async run(): Promise<RunReport> {
    const {args, flags} = await this.parse(Resume)
    const [{prepareResume, resumeRun}, {chooseObserver, endOfRun, waitForRun}] = await Promise.all([
      import('../core/run/run.js'),
      import('../ui/follow.js'),
    ])
    return withRuns(async ({project, store}) => {
      const prepared = await prepareResume(project, store, args.run, {sets: flags.set ?? [], python: flags.python})
      this.say(`resuming ${prepared.run.name} (${prepared.run.id}) from ${prepared.checkpoint}`)
      const observer = await chooseObserver((line) => this.say(line))
      const handle = resumeRun(project, store, prepared, observer)
      const record = await waitForRun(handle, observer)
      return endOfRun(record, handle.ended(), project.root, {
        log: (line) => this.log(line),
        say: (line) => this.say(line),
      })
    }, 'write')
  }
}
