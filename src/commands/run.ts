import {Args, Flags} from '@oclif/core'
import type {RunReport} from '../core/report/run-report.js'
import {configFlags, MlxCommand} from '../base-command.js'

export default class Run extends MlxCommand {
  static override summary =
    'Run an experiment: validate the config, generate the script, train, stream metrics into the store.'
  static override description = `Creates a run (id, directory under .mlx/runs/), writes the resolved config, the generated script and env.json, launches the script and ingests its metrics.jsonl while it trains. In a terminal a live view shows progress; otherwise progress lines go to stderr.

Exit codes: 0 completed, 1 the training failed, 2 bad input (no run is created), 130 interrupted (Ctrl-C stops the trainer and keeps what it logged).`
  static override examples = [
    '<%= config.bin %> run configs/image-classification.yaml',
    '<%= config.bin %> run configs/image-classification.yaml --set optim.lr=0.01 --name lr-0.01',
    '<%= config.bin %> run configs/image-classification.yaml optim.lr=0.01 train.epochs=5',
    '<%= config.bin %> run --from 3fa9 --set train.epochs=20',
  ]
  static override strict = false
  static override args = {
    config: Args.string({
      description: 'experiment config (YAML), then any KEY.PATH=VALUE overrides (as --set, applied after them)',
    }),
  }
  static override flags = {
    ...configFlags,
    name: Flags.string({char: 'n', description: "the run's name (default: the config's name)"}),
    python: Flags.string({
      description: "Python interpreter to train with (default: MLX_PYTHON, mlx.yaml, .venv, mlx's own)",
    }),
    from: Flags.string({
      description:
        "run a previous run's resolved config again as a new run (id, id prefix or name); --set and KEY=VALUE change it",
    }),
    'dry-run': Flags.boolean({description: 'validate and resolve the interpreter; create and launch nothing'}),
    detach: Flags.boolean({
      description: 'start (or submit) the run and return at once; mlx runs, show and logs follow it later',
    }),
  }

  async run(): Promise<RunReport | {dryRun: true; config: unknown; python: unknown; torch: string | null}> {
    const {argv, flags} = await this.parse(Run)
    const {openProject} = await import('../core/project/project.js')
    const {splitRunArguments, configOfRun} = await import('../core/run/origin.js')
    const {configFile: named, overrides} = splitRunArguments(argv as string[], flags.from !== undefined)
    const project = await openProject(process.cwd())
    const from = flags.from === undefined ? undefined : await configOfRun(flags.from)
    const configFile = from?.configFile ?? named!
    // Python's quick check starts now and runs while the config and the run's modules load.
    const {startQuickCheck} = await import('../core/run/quick-check.js')
    const options = {
      configFile,
      sets: [...(flags.set ?? []), ...overrides],
      argv: ['mlx', 'run', ...this.argv],
      fromRun: from?.run,
      name: flags.name,
      python: flags.python,
      earlyCheck: startQuickCheck(project, flags.python),
    }
    const [{prepareRun, startRun}, {chooseObserver, detachRun, endOfRun, plainObserver, waitForRun}] =
      await Promise.all([import('../core/run/run.js'), import('../ui/follow.js')])
    if (!flags['dry-run']) (await import('../core/store/open.js')).requireWritable(project.storeDir)

    const prepared = await prepareRun(project, options)
    if (flags['dry-run']) {
      const {config, python, check} = prepared
      this.say(
        `${configFile}: valid; would train ${config.name} (${config.task}) with ${python.command} (${python.reason}), torch ${check.torch}`,
      )
      return {dryRun: true, config, python, torch: check.torch}
    }

    const {withRuns} = await import('../core/store/with-runs.js')
    return withRuns(async ({store}) => {
      if (flags.detach) {
        const say = (line: string) => this.say(line)
        return detachRun(await startRun(project, store, prepared, plainObserver(say)), store, say)
      }
      const observer = await chooseObserver((line) => this.say(line))
      const handle = await startRun(project, store, prepared, observer)
      const record = await waitForRun(handle, observer)
      return endOfRun(record, handle.ended(), project.root, {
        log: (line) => this.log(line),
        say: (line) => this.say(line),
      })
    }, 'write')
  }
}
