/**
 * Loading an experiment config: YAML -> `--set` overrides -> zod schema, with every
 * problem reported at once as `FILE:LINE:COL: key.path: message (hint)`.
 */
import {parse as parseYamlValue} from 'yaml'
import type {z} from 'zod'
import {ConfigError, type Diagnostic} from '../errors.js'
import {ExperimentConfigSchema, TASKS, type ExperimentConfig} from './schema.js'
import {closest} from './suggest.js'
import {positionOf, readYaml, type PathKey, type YamlSource} from './yaml-source.js'

export interface Override {
  /** The flag as the user typed it, e.g. `--set optim.lr=0.01`. */
  flag: string
  path: string[]
  value: unknown
}

export interface LoadedConfig {
  file: string
  config: ExperimentConfig
}

/** Parses `--set key.path=VALUE` flags; VALUE is YAML (`0.01`, `true`, `[32, 64]`, `adam`). */
export function parseOverrides(sets: readonly string[]): {overrides: Override[]; diagnostics: Diagnostic[]} {
  const overrides: Override[] = []
  const diagnostics: Diagnostic[] = []
  for (const set of sets) {
    const flag = `--set ${set}`
    const eq = set.indexOf('=')
    const key = eq < 0 ? '' : set.slice(0, eq).trim()
    const path = key.split('.')
    if (eq < 0 || key === '' || path.some((part) => part === '')) {
      diagnostics.push({source: flag, path: '', message: 'expected KEY.PATH=VALUE', hint: 'for example --set optim.lr=0.01'})
      continue
    }
    try {
      overrides.push({flag, path, value: parseYamlValue(set.slice(eq + 1))})
    } catch (error) {
      diagnostics.push({source: flag, path: key, message: `the value is not valid YAML: ${(error as Error).message.split('\n')[0]}`})
    }
  }
  return {overrides, diagnostics}
}

/** Loads, overrides and validates one config file. Throws ConfigError with every problem. */
export function loadConfig(file: string, sets: readonly string[] = []): LoadedConfig {
  const result = checkConfig(file, sets)
  if ('diagnostics' in result) throw new ConfigError(result.diagnostics)
  return result
}

/** Like loadConfig, but returns the problems instead of throwing (for `mlx validate` on many files). */
export function checkConfig(file: string, sets: readonly string[] = []): LoadedConfig | {diagnostics: Diagnostic[]} {
  const {overrides, diagnostics: overrideProblems} = parseOverrides(sets)
  const read = readYaml(file)
  if ('diagnostics' in read) return {diagnostics: [...read.diagnostics, ...overrideProblems]}
  if (overrideProblems.length > 0) return {diagnostics: overrideProblems}

  const value = structuredClone(read.value) as Record<string, unknown>
  for (const override of overrides) setIn(value, override.path, override.value)

  const parsed = ExperimentConfigSchema.safeParse(value)
  if (parsed.success) return {file, config: parsed.data}
  const diagnostics = parsed.error.issues.flatMap((issue) => describeIssue(issue, read.source, value, overrides))
  return {diagnostics: diagnostics.sort(byPosition)}
}

/** File positions in reading order, then the --set flags. */
function byPosition(a: Diagnostic, b: Diagnostic): number {
  const inFile = (d: Diagnostic) => (d.line === undefined ? 1 : 0)
  return inFile(a) - inFile(b) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0)
}

function setIn(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target
  for (const part of path.slice(0, -1)) {
    const next = node[part]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {}
    node = node[part] as Record<string, unknown>
  }
  node[path.at(-1)!] = value
}

/** The override that set `path` or one of its ancestors, if any (the last one wins, as applied). */
function overrideFor(path: readonly PathKey[], overrides: readonly Override[]): Override | undefined {
  return overrides.findLast((o) => o.path.length <= path.length && o.path.every((part, i) => String(path[i]) === part))
}

function describeIssue(issue: z.core.$ZodIssue, source: YamlSource, value: unknown, overrides: readonly Override[]): Diagnostic[] {
  const path = issue.path.filter((key): key is PathKey => typeof key !== 'symbol')
  const locate = (keyPath: readonly PathKey[], key?: string): Pick<Diagnostic, 'source' | 'line' | 'column'> => {
    const override = overrideFor(key === undefined ? keyPath : [...keyPath, key], overrides)
    if (override) return {source: override.flag}
    return {source: source.file, ...positionOf(source, keyPath, key)}
  }
  const dotted = (keyPath: readonly PathKey[]) => keyPath.join('.')

  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const known = knownKeys(path, value)
        const suggestion = closest(key, known)
        return {
          ...locate(path, key),
          path: dotted([...path, key]),
          message: `unknown key ${JSON.stringify(key)}`,
          hint: suggestion ? `did you mean ${dotted([...path, suggestion])}?` : known.length > 0 ? `known keys: ${known.join(', ')}` : undefined,
        }
      })
    case 'invalid_union':
      if ('discriminator' in issue && issue.discriminator === 'task' && path.join('.') === 'task') return [taskProblem(value, locate)]
      return [{...locate(path), path: dotted(path), message: issue.message}]
    case 'too_small':
    case 'too_big': {
      const seen = valueAt(value, path)
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum
      const comparison = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<'
      const message =
        issue.origin === 'array' || issue.origin === 'string'
          ? `must have ${issue.code === 'too_small' ? 'at least' : 'at most'} ${String(bound)} ${issue.origin === 'array' ? 'items' : 'characters'}, found ${describeValue(seen)}`
          : `must be ${comparison} ${String(bound)}, found ${describeValue(seen)}`
      return [{...locate(path), path: dotted(path), message}]
    }
    case 'invalid_value': {
      const seen = valueAt(value, path)
      const allowed = issue.values.map(String)
      const suggestion = typeof seen === 'string' ? closest(seen, allowed) : undefined
      return [
        {
          ...locate(path),
          path: dotted(path),
          message: `${JSON.stringify(seen)} is not one of ${allowed.join(', ')}`,
          hint: suggestion ? `did you mean ${suggestion}?` : undefined,
        },
      ]
    }
    case 'invalid_type': {
      const seen = valueAt(value, path)
      if (seen === undefined) return [{...locate(path), path: dotted(path), message: `required ${issue.expected} is missing`}]
      if (issue.expected === 'int' && typeof seen === 'number') return [{...locate(path), path: dotted(path), message: `expected a whole number, found ${seen}`}]
      return [{...locate(path), path: dotted(path), message: `expected ${issue.expected}, found ${describeValue(seen)}`}]
    }
    default:
      return [{...locate(path), path: dotted(path), message: `${issue.message} (found ${describeValue(valueAt(value, path))})`}]
  }
}

function taskProblem(value: unknown, locate: (path: readonly PathKey[]) => Pick<Diagnostic, 'source' | 'line' | 'column'>): Diagnostic {
  const task = valueAt(value, ['task'])
  const allowed = `one of ${TASKS.join(', ')}`
  if (task === undefined) return {...locate(['task']), path: 'task', message: `required task is missing; expected ${allowed}`}
  const suggestion = typeof task === 'string' ? closest(task, TASKS) : undefined
  return {
    ...locate(['task']),
    path: 'task',
    message: `unknown task ${JSON.stringify(task)}; expected ${allowed}`,
    hint: suggestion ? `did you mean ${suggestion}?` : 'mlx init --list shows the templates',
  }
}

/** The keys the schema allows in the object at `path` (for the config's task). */
function knownKeys(path: readonly PathKey[], value: unknown): string[] {
  const task = valueAt(value, ['task'])
  const option = ExperimentConfigSchema.options.find((o) => o.shape.task.value === task) ?? ExperimentConfigSchema.options[0]!
  let schema: z.core.$ZodType = option
  for (const key of path) {
    const shape = objectShape(schema)
    if (!shape || typeof key !== 'string' || !(key in shape)) return []
    schema = shape[key]!
  }
  return Object.keys(objectShape(schema) ?? {})
}

function objectShape(schema: z.core.$ZodType): Record<string, z.core.$ZodType> | undefined {
  let current = schema
  // Unwrap defaults, prefaults and optionals down to the object itself.
  while ('innerType' in current._zod.def) current = current._zod.def.innerType as z.core.$ZodType
  return current._zod.def.type === 'object' ? (current._zod.def as unknown as {shape: Record<string, z.core.$ZodType>}).shape : undefined
}

function valueAt(value: unknown, path: readonly PathKey[]): unknown {
  let node = value
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined
    node = (node as Record<PathKey, unknown>)[key]
  }
  return node
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return `a list of ${value.length}`
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  return `${typeof value} ${String(value)}`
}
