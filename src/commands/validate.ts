import {Args, Flags} from '@oclif/core'
import type {ExperimentConfig} from '../core/config/schema.js'
import {ConfigError, UserError, type Diagnostic} from '../core/errors.js'
import {formatNumber} from '../core/report/numbers.js'
import type {PatternTest} from '../core/metrics/patterns.js'
import {MlxCommand} from './base.js'

interface ValidConfig {
  file: string
  name: string
  task: string
  /** Every file that contributed, bases first. */
  files: string[]
  /** The resolved config. */
  config: unknown
}

export default class Validate extends MlxCommand {
  static override summary = 'Check experiment configs; every problem at once, as FILE:LINE:COL: key.path: message.'
  static override examples = ['<%= config.bin %> validate configs/*.yaml', '<%= config.bin %> validate configs/image-classification.yaml --set optim.lr=0.01']
  static override strict = false
  static override args = {
    config: Args.string({description: 'config file(s) to check', required: true}),
  }
  static override flags = {
    set: Flags.string({char: 's', description: 'override a config value: KEY.PATH=VALUE (VALUE is YAML); repeatable', multiple: true, default: []}),
    print: Flags.boolean({char: 'p', description: 'print the resolved config (defaults filled, bases merged, overrides applied) as YAML: what will run'}),
    'test-patterns': Flags.string({description: "with one config of task: script, show the metrics its patterns take from a saved log (LOGFILE)", helpValue: 'LOGFILE'}),
  }

  async run(): Promise<{valid: ValidConfig[]; patterns?: PatternTest}> {
    const {argv, flags} = await this.parse(Validate)
    const [{checkConfig}, {openProject}] = await Promise.all([import('../core/config/load.js'), import('../core/project/project.js')])
    // The files a recipe reads are checked where a run would train: the project root.
    const {root} = await openProject(process.cwd())
    const valid: ValidConfig[] = []
    const problems: Diagnostic[] = []
    for (const file of argv as string[]) {
      const result = checkConfig(file, flags.set, {root})
      if ('diagnostics' in result) problems.push(...result.diagnostics)
      else valid.push({file, name: result.config.name, task: result.config.task, files: result.files, config: result.config})
    }
    for (const ok of valid) this.say(`${ok.file}: valid (${ok.name}, ${ok.task})`)
    if (problems.length > 0) throw new ConfigError(problems)
    if (flags.print && !this.jsonEnabled()) {
      const {stringify} = await import('yaml')
      const documents = valid.map((ok) => `# ${ok.file}${ok.files.length > 1 ? ` (with ${ok.files.slice(0, -1).join(', ')})` : ''}\n${stringify(ok.config)}`)
      process.stdout.write(documents.join('---\n'))
    }
    const logFile = flags['test-patterns']
    if (logFile === undefined) return {valid}
    if (valid.length !== 1) throw new UserError('--test-patterns takes one config', 'name the one script config whose patterns to try')
    const {testPatterns} = await import('../core/metrics/patterns.js')
    const patterns = await testPatterns(await openProject(process.cwd()), valid[0]!.config as ExperimentConfig, logFile)
    for (const record of patterns.records) {
      const values = Object.entries(record.values).map(([key, value]) => `${key}=${formatNumber(value)}`).join(' ')
      this.log(`${logFile}:${record.line}: step ${record.step}${record.epoch === null ? '' : ` epoch ${formatNumber(record.epoch)}`}: ${values}`)
    }
    const keys = [...new Set(patterns.records.flatMap((record) => Object.keys(record.values)))]
    this.say(`${patterns.records.length} of ${patterns.lines} lines gave metrics${keys.length > 0 ? `: ${keys.join(', ')}` : ''}`)
    return {valid, patterns}
  }
}
