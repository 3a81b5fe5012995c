import {Args, Flags} from '@oclif/core'
import {ConfigError, type Diagnostic} from '../core/errors.js'
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
  }

  async run(): Promise<{valid: ValidConfig[]}> {
    const {argv, flags} = await this.parse(Validate)
    const {checkConfig} = await import('../core/config/load.js')
    const valid: ValidConfig[] = []
    const problems: Diagnostic[] = []
    for (const file of argv as string[]) {
      const result = checkConfig(file, flags.set)
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
    return {valid}
  }
}
