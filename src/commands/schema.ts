import {MlxCommand} from './base.js'

export default class Schema extends MlxCommand {
  static override summary = 'Print the JSON Schema of experiment configs (for editor completion and checks).'
  static override description = 'Configs scaffolded by `mlx init` point editors at mlx.schema.json; `mlx schema > mlx.schema.json` refreshes it.'
  static override enableJsonFlag = false

  async run(): Promise<void> {
    const {experimentJsonSchema} = await import('../core/config/schema.js')
    this.log(JSON.stringify(experimentJsonSchema(), null, 2))
  }
}
