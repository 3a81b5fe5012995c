/** `mlx init`: scaffold a project (mlx.yaml, configs/<template>.yaml, the template's own files, mlx.schema.json, .gitignore). */
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import {experimentJsonSchema, TASKS} from '../config/schema.js'
import {excerpt, UserError} from '../errors.js'
import {PROJECT_FILE} from './project.js'
import {defaultConfigText, RECIPES, templateFiles} from '../recipes/registry.js'
import {closest} from '../config/suggest.js'

export const SCHEMA_FILE = 'mlx.schema.json'
const GITIGNORE_LINES = ['.mlx/', 'data/', '.venv/', '__pycache__/']

export interface InitResult {
  root: string
  template: string
  written: string[]
  config: string
}

export interface TemplateInfo {
  name: string
  summary: string
}

export function listTemplates(): TemplateInfo[] {
  return TASKS.map((task) => ({name: task, summary: RECIPES[task].summary}))
}

const PROJECT_FILE_TEXT = `# mlx project file: marks this folder as the project root (runs go to .mlx/).
# python: .venv/bin/python   # the interpreter that trains; default: .venv, then mlx's own, then python3
`

export function scaffoldProject(dir: string, template: string, force: boolean): InitResult {
  if (!(TASKS as readonly string[]).includes(template)) {
    const suggestion = closest(template, TASKS)
    throw new UserError(
      `unknown template ${JSON.stringify(excerpt(template))}`,
      suggestion ? `did you mean ${suggestion}? (mlx init --list)` : `templates: ${TASKS.join(', ')}`,
    )
  }
  const root = resolve(dir)
  const configPath = join(root, 'configs', `${template}.yaml`)
  const extras = templateFiles(template).map(({path, source}) => ({path: join(root, path), source}))
  const planned = [join(root, PROJECT_FILE), configPath, ...extras.map((extra) => extra.path)]
  const existing = planned.filter((path) => existsSync(path))
  if (existing.length > 0 && !force) {
    throw new UserError(
      `${existing.map((p) => relative(process.cwd(), p) || p).join(' and ')} already exist${existing.length === 1 ? 's' : ''}`,
      'nothing was changed; pass --force to overwrite',
    )
  }

  mkdirSync(join(root, 'configs'), {recursive: true})
  const written: string[] = []
  const write = (path: string, text: string) => {
    writeFileSync(path, text)
    written.push(path)
  }
  write(join(root, PROJECT_FILE), PROJECT_FILE_TEXT)
  write(configPath, defaultConfigText(template))
  for (const extra of extras) {
    mkdirSync(dirname(extra.path), {recursive: true})
    write(extra.path, readFileSync(extra.source, 'utf8'))
  }
  write(join(root, SCHEMA_FILE), JSON.stringify(experimentJsonSchema(), null, 2) + '\n')

  // .gitignore is the user's: add the lines it lacks, never drop any.
  const gitignore = join(root, '.gitignore')
  const current = existsSync(gitignore) ? readFileSync(gitignore, 'utf8') : ''
  const have = new Set(current.split('\n').map((line) => line.trim()))
  const missing = GITIGNORE_LINES.filter((line) => !have.has(line))
  if (missing.length > 0)
    write(gitignore, current + (current && !current.endsWith('\n') ? '\n' : '') + missing.join('\n') + '\n')

  return {root, template, written, config: configPath}
}
