import {Args, Flags} from '@oclif/core'
import {configFlags, MlxCommand} from '../base-command.js'
import type {SweepComparison} from '../core/sweep/report.js'

export default class Sweep extends MlxCommand {
  static override summary =
    "Search a config's params: every trial an ordinary run, sampled and pruned by Optuna, parallel on the cores or GPUs there are."
  static override description = `Reads the config's sweep: section (method, trials, parallel, objective, params, seeds, folds, prune), with -p, --trials and --parallel on top; checks every swept path and value against the config's schema before anything starts. Each trial is a configuration, trained once per seed and fold as ordinary runs (mlx runs, show, compare, rm work on them), named <sweep>-t<N>[-s<seed>][-f<fold>].

Samplers: grid, random, tpe, cmaes, nsga2; pruners: asha, hyperband, median (Optuna), fed from the live metrics; a pruned trial stops with a checkpoint and is recorded pruned. With gpus_per_trial, each trial gets its own CUDA_VISIBLE_DEVICES slot; on the CPU each trial's threads are its share of the cores.

Ctrl-C stops every running trial with a checkpoint (exit 130); mlx sweep resume NAME continues, as it does after a kill. At the end the trials are compared as mlx compare --sweep NAME shows them.`
  static override examples = [
    '<%= config.bin %> sweep configs/sweep-digits.yaml',
    '<%= config.bin %> sweep configs/image-classification.yaml -p optim.lr=0.1,0.01,0.001 -p model.dropout=0,0.25',
    '<%= config.bin %> sweep configs/image-classification.yaml -p optim.lr=loguniform:1e-4:1e-1 --trials 20 --parallel 2',
  ]
  static override args = {
    config: Args.string({description: 'experiment config (YAML), with or without a sweep: section', required: true}),
  }
  static override flags = {
    ...configFlags,
    param: Flags.string({
      char: 'p',
      description:
        "a param to sweep: PATH=V1,V2,... (a list), or PATH=uniform:LOW:HIGH (also loguniform, int, logint); repeatable; replaces the file's entry for PATH",
      multiple: true,
      multipleNonGreedy: true,
    }),
    trials: Flags.integer({description: 'configurations to try (default: sweep.trials; a grid: its size)', min: 1}),
    parallel: Flags.integer({description: 'runs at once (default: sweep.parallel, else 1)', min: 1}),
    'gpus-per-trial': Flags.integer({
      description: 'GPUs each run gets, a slot of its own (default: sweep.gpus_per_trial)',
      min: 0,
    }),
    name: Flags.string({
      char: 'n',
      description: "the sweep's name (default: the config's name); its runs are named after it",
    }),
    python: Flags.string({description: 'Python interpreter to train with'}),
  }

  async run(): Promise<SweepComparison> {
    const {args, flags} = await this.parse(Sweep)
    const [{withRuns}, {prepareSweep}, {followSweep, sweepObserver}] = await Promise.all([
      import('../core/store/with-runs.js'),
      import('../core/sweep/api.js'),
      import('../ui/sweep-follow.js'),
    ])
    return withRuns(async ({project, store}) => {
      const launch = await prepareSweep(
        project,
        store,
        {
          configFile: args.config,
          sets: flags.set ?? [],
          params: flags.param ?? [],
          trials: flags.trials,
          parallel: flags.parallel,
          gpusPerTrial: flags['gpus-per-trial'],
          name: flags.name,
          python: flags.python,
          argv: ['mlx', 'sweep', ...this.argv],
        },
        sweepObserver((line) => this.say(line)),
      )
      const {spec} = launch.runner
      this.say(
        `sweep ${spec.name}: ${spec.method}, ${spec.trials} trials, ${spec.parallel} at once, ${spec.objectives.map((o) => `${o.metric} (${o.goal})`).join(', ')}`,
      )
      return followSweep(launch, store, {
        log: (line) => this.log(line),
        say: (line) => this.say(line),
        json: this.jsonEnabled(),
      })
    }, 'write')
  }
}
