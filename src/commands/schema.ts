import {Flags} from '@oclif/core'
import {MlxCommand} from '../base-command.js'

export default class Schema extends MlxCommand {
  static override summary = 'Print the JSON Schema of experiment configs (for editor completion and checks).'
  static override description =
    'Configs scaffolded by `mlx init` point editors at mlx.schema.json; `mlx schema > mlx.schema.json` refreshes it. With --markdown, the field reference (docs/config-reference.md).'
  static override enableJsonFlag = false
  static override flags = {
    markdown: Flags.boolean({description: 'print the field reference as Markdown instead'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Schema)
    if (flags.markdown) {
      const {configReference} = await import('../core/config/reference.js')
      process.stdout.write(configReference())
      return
    }
    const {experimentJsonSchema} = await import('../core/config/schema.js')
    this.log(JSON.stringify(experimentJsonSchema(), null, 2))
  }
}
