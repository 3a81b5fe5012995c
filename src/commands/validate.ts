import {Args, Flags} from '@oclif/core'
import {ConfigError, type Diagnostic} from '../core/errors.js'
import {MlxCommand} from './base.js'

export default class Validate extends MlxCommand {
  static override summary = 'Check experiment configs; every problem at once, as FILE:LINE:COL: key.path: message.'
  static override examples = ['<%= config.bin %> validate configs/*.yaml', '<%= config.bin %> validate configs/image-classification.yaml --set optim.lr=0.01']
  static override strict = false
  static override args = {
    config: Args.string({description: 'config file(s) to check', required: true}),
  }
  static override flags = {
    set: Flags.string({char: 's', description: 'override a config value: KEY.PATH=VALUE (VALUE is YAML); repeatable', multiple: true, default: []}),
  }

  async run(): Promise<{valid: Array<{file: string; name: string; task: string}>}> {
    const {argv, flags} = await this.parse(Validate)
    const {checkConfig} = await import('../core/config/load.js')
    const valid: Array<{file: string; name: string; task: string}> = []
    const problems: Diagnostic[] = []
    for (const file of argv as string[]) {
      const result = checkConfig(file, flags.set)
      if ('diagnostics' in result) problems.push(...result.diagnostics)
      else valid.push({file, name: result.config.name, task: result.config.task})
    }
    for (const ok of valid) this.say(`${ok.file}: valid (${ok.name}, ${ok.task})`)
    if (problems.length > 0) throw new ConfigError(problems)
    return {valid}
  }
}
