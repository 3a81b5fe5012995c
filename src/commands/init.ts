import {Args, Flags} from '@oclif/core'
import {relative} from 'node:path'
import type {InitResult, TemplateInfo} from '../core/project/init.js'
import {MlxCommand} from '../base-command.js'

export default class Init extends MlxCommand {
  static override summary = 'Scaffold a project: mlx.yaml, configs/<template>.yaml, mlx.schema.json, .gitignore.'
  static override examples = [
    '<%= config.bin %> init demo --template image-classification',
    '<%= config.bin %> init --list',
  ]
  static override args = {
    dir: Args.string({description: 'project folder (created when missing)', default: '.'}),
  }
  static override flags = {
    template: Flags.string({
      char: 't',
      description: 'recipe to start from (see --list)',
      default: 'image-classification',
    }),
    force: Flags.boolean({description: 'overwrite an existing mlx.yaml and config'}),
    list: Flags.boolean({description: 'list the templates and exit'}),
  }

  async run(): Promise<InitResult | {templates: TemplateInfo[]}> {
    const {args, flags} = await this.parse(Init)
    const {listTemplates, scaffoldProject} = await import('../core/project/init.js')
    if (flags.list) {
      const templates = listTemplates()
      const width = Math.max(...templates.map((t) => t.name.length))
      if (!this.jsonEnabled()) for (const t of templates) this.log(`${t.name.padEnd(width)}  ${t.summary}`)
      return {templates}
    }
    const result = scaffoldProject(args.dir, flags.template, flags.force)
    const show = (path: string) => relative(process.cwd(), path) || '.'
    for (const path of result.written) this.say(`wrote ${show(path)}`)
    const cd = show(result.root) === '.' ? '' : `cd ${show(result.root)} && `
    this.say(`\nnext: ${cd}mlx run ${relative(result.root, result.config)}`)
    return result
  }
}
