/**
 * The project: the nearest ancestor holding `mlx.yaml` (else the current directory),
 * and its store: `<root>/.mlx`, unless MLX_HOME names another directory.
 */
import {existsSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {ConfigError, type Diagnostic} from '../errors.js'
import {closest} from '../config/suggest.js'
import {readRegularFile} from '../files.js'

export const PROJECT_FILE = 'mlx.yaml'

/**
 * `mlx.yaml`: marks a project root and holds project-wide settings. Checked by hand
 * rather than with the config schema, so that commands that only read runs never load zod.
 */
export interface ProjectFile {
  /** Python interpreter that runs training (a path relative to the project, or a command on PATH). */
  python?: string
}
const PROJECT_KEYS = ['python']

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

export async function openProject(cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Project> {
  const found = findProjectRoot(cwd)
  const root = found ?? resolve(cwd)
  const file = found ? join(found, PROJECT_FILE) : undefined
  const storeDir = env.MLX_HOME ? resolve(cwd, env.MLX_HOME) : join(root, '.mlx')
  return {root, file, settings: file ? await readProjectFile(file) : {}, storeDir}
}

/** mlx.yaml is small: a few settings. */
const MAX_PROJECT_FILE_BYTES = 64 * 1024

async function readProjectFile(file: string): Promise<ProjectFile> {
  const raw = readRegularFile(file, MAX_PROJECT_FILE_BYTES, 'mlx.yaml')
  if ('problem' in raw)
    throw new ConfigError([
      {
        source: file,
        line: 1,
        column: 1,
        path: '',
        message: raw.problem,
        hint: raw.hint ?? 'mlx.yaml marks the project root: an empty file will do',
      },
    ])
  // Most mlx.yaml files only mark the root (comments, or nothing): they need no YAML parser.
  if (
    raw.bytes
      .toString('utf8')
      .split('\n')
      .every((line) => /^\s*(#.*)?$/.test(line))
  )
    return {}
  const {positionOf, readYaml} = await import('../config/yaml-source.js')
  const read = readYaml(file)
  if ('diagnostics' in read) {
    // An empty mlx.yaml is a valid marker of a project root.
    if (read.diagnostics.length === 1 && read.diagnostics[0]!.message === 'file is empty') return {}
    throw new ConfigError(read.diagnostics)
  }
  const value = read.value as Record<string, unknown>
  const problems = Object.entries(value).flatMap(([key, setting]): Diagnostic[] => {
    if (!PROJECT_KEYS.includes(key)) {
      const suggestion = closest(key, PROJECT_KEYS)
      return [
        {
          source: file,
          ...positionOf(read.source, [], key),
          path: key,
          message: `unknown key ${JSON.stringify(key)}`,
          hint: suggestion ? `did you mean ${suggestion}?` : `mlx.yaml knows: ${PROJECT_KEYS.join(', ')}`,
        },
      ]
    }
    if (typeof setting !== 'string' || setting === '') {
      return [
        {
          source: file,
          ...positionOf(read.source, [key]),
          path: key,
          message: 'expected the path or command of a Python interpreter',
        },
      ]
    }
    return []
  })
  if (problems.length > 0) throw new ConfigError(problems)
  return value as ProjectFile
}
