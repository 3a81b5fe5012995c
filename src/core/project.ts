/**
 * The project: the nearest ancestor holding `mlx.yaml` (else the current directory),
 * and its store: `<root>/.mlx`, unless MLX_HOME names another directory.
 */
import {existsSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {ConfigError} from './errors.js'
import {ProjectFileSchema, type ProjectFile} from './config/schema.js'
import {closest} from './config/suggest.js'
import {positionOf, readYaml} from './config/yaml-source.js'

export const PROJECT_FILE = 'mlx.yaml'

export interface Project {
  root: string
  /** `mlx.yaml`, when the project has one. */
  file: string | undefined
  settings: ProjectFile
  storeDir: string
}

export function findProjectRoot(from: string): string | undefined {
  let dir = resolve(from)
  for (;;) {
    if (existsSync(join(dir, PROJECT_FILE))) return dir
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

export function openProject(cwd: string, env: NodeJS.ProcessEnv = process.env): Project {
  const found = findProjectRoot(cwd)
  const root = found ?? resolve(cwd)
  const file = found ? join(found, PROJECT_FILE) : undefined
  const storeDir = env.MLX_HOME ? resolve(cwd, env.MLX_HOME) : join(root, '.mlx')
  return {root, file, settings: file ? readProjectFile(file) : {}, storeDir}
}

function readProjectFile(file: string): ProjectFile {
  const read = readYaml(file)
  if ('diagnostics' in read) {
    // An empty mlx.yaml is a valid marker of a project root.
    if (read.diagnostics.length === 1 && read.diagnostics[0]!.message === 'file is empty') return {}
    throw new ConfigError(read.diagnostics)
  }
  const parsed = ProjectFileSchema.safeParse(read.value)
  if (parsed.success) return parsed.data
  throw new ConfigError(
    parsed.error.issues.map((issue) => {
      const path = issue.path.map(String)
      const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined
      const known = Object.keys(ProjectFileSchema.shape)
      const suggestion = key ? closest(key, known) : undefined
      return {
        source: file,
        ...positionOf(read.source, path, key),
        path: [...path, ...(key ? [key] : [])].join('.'),
        message: key ? `unknown key ${JSON.stringify(key)}` : issue.message,
        hint: key ? (suggestion ? `did you mean ${suggestion}?` : `mlx.yaml knows: ${known.join(', ')}`) : undefined,
      }
    }),
  )
}
