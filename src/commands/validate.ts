import {Args, Flags} from '@oclif/core'
import type {ValidConfig} from '../core/config/load.js'
import {ConfigError, UserError} from '../core/errors.js'
import type {PatternTest} from '../core/metrics/patterns.js'
import {configFlags, MlxCommand} from '../base-command.js'

export default class Validate extends MlxCommand {
  static override summary = 'Check experiment configs; every problem at once, as FILE:LINE:COL: key.path: message.'
  static override examples = [
    '<%= config.bin %> validate configs/*.yaml',
    '<%= config.bin %> validate configs/image-classification.yaml --set optim.lr=0.01',
  ]
  static override strict = false
  static override args = {
    config: Args.string({description: 'config file(s) to check', required: true}),
  }
  static override flags = {
    ...configFlags,
    print: Flags.boolean({
      char: 'p',
      description:
        'print the resolved config (defaults filled, bases merged, overrides applied) as YAML: what will run',
    }),
    'test-patterns': Flags.string({
      description: 'with one config of task: script, show the metrics its patterns take from a saved log (LOGFILE)',
      helpValue: 'LOGFILE',
    }),
  }

  async run(): Promise<{valid: ValidConfig[]; patterns?: PatternTest}> {
    const {argv, flags} = await this.parse(Validate)
    const [{checkConfigs, resolvedConfigsYaml}, {openProject}] = await Promise.all([
      import('../core/config/load.js'),
      import('../core/project/project.js'),
    ])
    // The files a recipe reads are checked where a run would train: the project root.
    const project = await openProject(process.cwd())
    const {valid, problems} = checkConfigs(argv as string[], flags.set ?? [], {root: project.root})
    for (const ok of valid) this.say(`${ok.file}: valid (${ok.name}, ${ok.task})`)
    if (problems.length > 0) throw new ConfigError(problems)
    if (flags.print && !this.jsonEnabled()) process.stdout.write(resolvedConfigsYaml(valid))
    const logFile = flags['test-patterns']
    if (logFile === undefined) return {valid}
    if (valid.length !== 1)
      throw new UserError('--test-patterns takes one config', 'name the one script config whose patterns to try')
    const [{testPatterns}, {describePatternTest}] = await Promise.all([
      import('../core/metrics/patterns.js'),
      import('../core/report/pattern-test.js'),
    ])
    const patterns = await testPatterns(project, valid[0]!.config, logFile)
    const {lines, summary} = describePatternTest(patterns, logFile)
    for (const line of lines) this.log(line)
    this.say(summary)
    return {valid, patterns}
  }
}
