import {Args, Flags} from '@oclif/core'
import type {RunReport} from '../core/report/run-report.js'
import type {ProfileSummary} from '../core/run/profile.js'
import {configFlags, MlxCommand} from '../base-command.js'

export default class Profile extends MlxCommand {
  static override summary =
    "Profile a recipe's real training step under torch.profiler: top operators, where a step goes, a hint."
  static override description = `Trains a few optimiser steps of a config (or of a run's resolved config) as a run of kind profile: one step skipped, one to warm up, then --steps recorded with torch.profiler (CPU and CUDA time, memory, shapes, stacks). Prints the top operators by self CPU (and CUDA) time with their share of all operators' time, the split of a step into data loading, forward, backward, optimiser and other, and a hint where one dominates. The trace lands in the run's profile/ folder: tensorboard --logdir there (PyTorch Profiler tab), or ui.perfetto.dev.

Exit codes as for mlx run.`
  static override examples = [
    '<%= config.bin %> profile configs/image-classification.yaml',
    '<%= config.bin %> profile digits-cnn --steps 10 --set data.num_workers=2',
  ]
  static override args = {
    target: Args.string({
      description: 'experiment config (YAML), or a run whose resolved config to profile',
      required: true,
    }),
  }
  static override flags = {
    ...configFlags,
    steps: Flags.integer({
      description: 'optimiser steps recorded (after one skipped and one warming up)',
      default: 5,
      min: 1,
      max: 1000,
    }),
    python: Flags.string({description: 'Python interpreter (default: as mlx run chooses)'}),
  }

  async run(): Promise<{run: RunReport; profile: ProfileSummary | null}> {
    const {args, flags} = await this.parse(Profile)
    const [{openProject}, {configOfRun}, {existsSync, statSync}, {profileLaunch, profileOf, profileText}] =
      await Promise.all([
        import('../core/project/project.js'),
        import('../core/run/origin.js'),
        import('node:fs'),
        import('../core/run/profile.js'),
      ])
    const project = await openProject(process.cwd())
    const isFile = existsSync(args.target) && statSync(args.target).isFile()
    const from = isFile ? undefined : await configOfRun(args.target)
    const launch = profileLaunch(flags.steps)
    const [{prepareRun, startRun}, {chooseObserver, endOfRun, waitForRun}] = await Promise.all([
      import('../core/run/run.js'),
      import('../ui/follow.js'),
    ])
    ;(await import('../core/store/open.js')).requireWritable(project.storeDir)
    const prepared = await prepareRun(project, {
      configFile: from?.configFile ?? args.target,
      sets: [...(flags.set ?? []), ...launch.sets],
      argv: ['mlx', 'profile', ...this.argv],
      fromRun: from?.run,
      python: flags.python,
    })
    const {withRuns} = await import('../core/store/with-runs.js')
    return withRuns(async ({store}) => {
      const observer = await chooseObserver((line) => this.say(line))
      const handle = await startRun(
        project,
        store,
        {...prepared, kind: 'profile', env: {...prepared.env, ...launch.env}},
        observer,
      )
      const record = await waitForRun(handle, observer)
      const run = endOfRun(record, handle.ended(), project.root, {
        log: (line) => this.log(line),
        say: (line) => this.say(line),
      })
      const profile = profileOf(store, run.id)
      if (!this.jsonEnabled())
        this.log(
          profile
            ? profileText(profile, run.runDir, project.root)
            : 'no profile: the run ended before its recorded steps',
        )
      return {run, profile}
    }, 'write')
  }
}
