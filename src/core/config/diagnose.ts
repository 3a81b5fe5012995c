/**
 * Turning zod's issues into diagnostics a person can act on: the value found, what was expected,
 * the keys allowed where an unknown key stands (and the task or branch a misplaced key belongs
 * to), by reading the schema zod built. load.ts locates each one in its file.
 */
import type {z} from 'zod'
import {excerpt, type Diagnostic} from '../errors.js'
import {TASK_SCHEMAS} from './schema.js'
import {closest} from './suggest.js'
import type {PathKey} from './yaml-source.js'

export type Located = Pick<Diagnostic, 'source' | 'line' | 'column'>

export const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

export function describeIssue(
  issue: z.core.$ZodIssue,
  locate: (path: readonly PathKey[], key?: string) => Located,
  value: unknown,
): Diagnostic[] {
  const path = issue.path.filter((key): key is PathKey => typeof key !== 'symbol')
  const dotted = (keyPath: readonly PathKey[]) => keyPath.join('.')
  const at = (message: string, hint?: string): Diagnostic => ({
    ...locate(path),
    path: dotted(path),
    message,
    ...(hint ? {hint} : {}),
  })
  const seen = valueAt(value, path)

  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const {known, elsewhere} = keysAt(path, value, key)
        const suggestion = known.length > 0 ? closest(key, known) : undefined
        const hint = suggestion
          ? `did you mean ${dotted([...path, suggestion])}?`
          : elsewhere
            ? elsewhere
            : known.length > 0
              ? `known keys: ${known.join(', ')}`
              : undefined
        return {
          ...locate(path, key),
          path: dotted([...path, excerpt(key)]),
          message: `unknown key ${JSON.stringify(excerpt(key))}`,
          ...(hint ? {hint} : {}),
        }
      })
    case 'invalid_union': {
      if ('discriminator' in issue && issue.discriminator) {
        const allowed = ((issue as {options?: unknown[]}).options ?? []).filter(
          (option): option is string => typeof option === 'string',
        )
        const field = dotted(path)
        if (seen === undefined) return [at(`required ${field} is missing; expected one of ${allowed.join(', ')}`)]
        const suggestion = typeof seen === 'string' ? closest(seen, allowed) : undefined
        if (field === 'task')
          return [
            at(
              `unknown task ${shown(seen)}; expected one of ${allowed.join(', ')}`,
              suggestion ? `did you mean ${suggestion}?` : 'mlx init --list shows the templates',
            ),
          ]
        return [
          at(
            `${shown(seen)} is not one of ${allowed.join(', ')}`,
            suggestion ? `did you mean ${suggestion}?` : undefined,
          ),
        ]
      }
      return [at(`expected ${describeUnion(path, value)}, found ${describeValue(seen)}`)]
    }
    case 'invalid_value': {
      const allowed = issue.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
      if (seen === undefined) return [at(`required ${dotted(path)} is missing; expected one of ${allowed.join(', ')}`)]
      const suggestion = typeof seen === 'string' ? closest(seen, allowed) : undefined
      return [
        at(
          `${shown(seen)} is not one of ${allowed.join(', ')}`,
          suggestion ? `did you mean ${suggestion}?` : undefined,
        ),
      ]
    }
    case 'invalid_type':
      if (seen === undefined) return [at(`required ${issue.expected} is missing`)]
      if (issue.expected === 'int' && typeof seen === 'number') return [at(`expected a whole number, found ${seen}`)]
      if (issue.expected === 'object' && seen === null)
        return [at('expected a mapping, found null (an empty section)', 'remove the line, or give it fields')]
      if (typeof seen === 'number' && !Number.isFinite(seen)) return [at(`expected a finite number, found ${seen}`)]
      return [at(`expected ${EXPECTED_NAMES[issue.expected] ?? issue.expected}, found ${describeValue(seen)}`)]
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum
      const comparison = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<'
      if (issue.origin === 'array' || issue.origin === 'string') {
        const what = issue.origin === 'array' ? 'items' : 'characters'
        if (issue.exact) return [at(`must have exactly ${String(bound)} ${what}, found ${describeValue(seen)}`)]
        return [
          at(
            `must have ${issue.code === 'too_small' ? 'at least' : 'at most'} ${String(bound)} ${what}, found ${describeValue(seen)}`,
          ),
        ]
      }
      return [at(`must be ${comparison} ${String(bound)}, found ${describeValue(seen)}`)]
    }
    case 'invalid_format':
      return [at(`${issue.message}, found ${describeValue(seen)}`)]
    default:
      // A rule about a field the file left out (its default broke it) has no value to show.
      return [at(seen === undefined ? issue.message : `${issue.message} (found ${describeValue(seen)})`)]
  }
}

/**
 * `--set model.channels.0=8` where the files leave model.channels to its default: there is no list
 * to index yet, and making one of a single item would silently drop the rest.
 */
export function defaultListProblem(
  value: Record<string, unknown>,
  path: readonly string[],
): {message: string; hint: string} | undefined {
  for (let depth = 1; depth < path.length; depth++) {
    const prefix = path.slice(0, depth)
    if (valueAt(value, prefix) !== undefined) continue
    const schema = schemaAt(prefix, value)
    const type = schema && (unwrap(schema)._zod.def as {type: string}).type
    if (type === 'array' || type === 'tuple') {
      const at = prefix.join('.')
      return {
        message: `${at} is a list that the config leaves to its default: there is no item ${path[depth]} to set`,
        hint: `give the whole list: --set ${at}=[...] (mlx validate --print shows the default)`,
      }
    }
    return undefined
  }
  return undefined
}

const EXPECTED_NAMES: Record<string, string> = {object: 'a mapping', array: 'a list', tuple: 'a list'}

type Schema = z.core.$ZodType

/** Strips defaults, optionals, nullables and pipes down to the schema that decides the shape. */
function unwrap(schema: Schema): Schema {
  let current = schema
  for (;;) {
    const def = current._zod.def as {type: string; innerType?: Schema; in?: Schema}
    if (def.innerType) current = def.innerType
    else if (def.type === 'pipe' && def.in) current = def.in
    else return current
  }
}

function shapeOf(schema: Schema): Record<string, Schema> | undefined {
  const def = unwrap(schema)._zod.def as {type: string; shape?: Record<string, Schema>}
  return def.type === 'object' ? def.shape : undefined
}

/** The object branches a schema may take: itself, or the options of a union. */
function branches(schema: Schema): Schema[] {
  const inner = unwrap(schema)
  const def = inner._zod.def as {type: string; options?: Schema[]}
  if (def.type === 'union') return def.options!.flatMap(branches)
  return shapeOf(inner) ? [inner] : []
}

/** The literal a branch's discriminator field takes, and whether it is the default (may be left out). */
function discriminatorOf(branch: Schema, field: string): {value: unknown; isDefault: boolean} | undefined {
  const schema = shapeOf(branch)?.[field]
  if (!schema) return undefined
  const def = schema._zod.def as {type: string; defaultValue?: unknown}
  const literal = unwrap(schema)._zod.def as {type: string; values?: unknown[]}
  if (literal.type !== 'literal') return undefined
  return {value: literal.values![0], isDefault: def.type === 'default'}
}

/** The branch of a (possibly union) schema that `node` selects. */
function chooseBranch(schema: Schema, node: unknown): Schema | undefined {
  const options = branches(schema)
  if (options.length <= 1) return options[0]
  const unionDef = unwrap(schema)._zod.def as {discriminator?: string}
  const field = unionDef.discriminator
  if (!field) return undefined
  const chosen = isMapping(node) ? node[field] : undefined
  return options.find((option) => {
    const d = discriminatorOf(option, field)
    return d && (chosen === undefined ? d.isDefault : d.value === chosen)
  })
}

/** The schema of the mapping at `path`, following the config's own discriminators. */
function schemaAt(path: readonly PathKey[], value: unknown): Schema | undefined {
  let schema: Schema | undefined =
    TASK_SCHEMAS.find((option) => option.shape.task.value === valueAt(value, ['task'])) ?? TASK_SCHEMAS[0]
  for (let depth = 0; depth < path.length && schema; depth++) {
    const branch = chooseBranch(schema, valueAt(value, path.slice(0, depth)))
    const key = path[depth]
    const shape = branch && shapeOf(branch)
    schema = shape && typeof key === 'string' && Object.hasOwn(shape, key) ? shape[key] : undefined
  }
  return schema
}

/** The keys allowed at `path`, and, for a key that belongs to another branch, where it does. */
function keysAt(path: readonly PathKey[], value: unknown, key: string): {known: string[]; elsewhere?: string} {
  const schema = schemaAt(path, value)
  if (!schema) return {known: []}
  const node = valueAt(value, path)
  const branch = chooseBranch(schema, node)
  const known = Object.keys((branch && shapeOf(branch)) ?? {})
  const unionDef = unwrap(schema)._zod.def as {discriminator?: string}
  const field = unionDef.discriminator ?? (path.length === 0 ? 'task' : undefined)
  const options = path.length === 0 ? [...TASK_SCHEMAS] : branches(schema)
  if (!field || options.length <= 1) return {known}
  const owners = options
    .filter((option) => option !== branch && Object.hasOwn(shapeOf(option) ?? {}, key))
    .map((option) => discriminatorOf(option, field)?.value)
  const here = isMapping(node) ? (node[field] ?? discriminatorOf(branch!, field)?.value) : undefined
  const where = path.length === 0 ? field : [...path, field].join('.')
  return owners.length > 0
    ? {known, elsewhere: `${key} belongs to ${where}: ${owners.join(', ')}, not ${String(here)}`}
    : {known}
}

function describeUnion(path: readonly PathKey[], value: unknown): string {
  const schema = schemaAt(path, value)
  const def = schema && (unwrap(schema)._zod.def as {type: string; options?: Schema[]})
  if (!def || def.type !== 'union') return 'another value'
  return def
    .options!.map((option) => {
      const inner = unwrap(option)._zod.def as {type: string; values?: unknown[]}
      if (inner.type === 'literal') return JSON.stringify(inner.values![0])
      if (inner.type === 'enum')
        return Object.values((inner as unknown as {entries: Record<string, string>}).entries).join(' or ')
      return (
        {array: 'a list', number: 'a number', string: 'a string', boolean: 'true or false'}[inner.type] ?? inner.type
      )
    })
    .join(' or ')
}

export function valueAt(value: unknown, path: readonly PathKey[]): unknown {
  let node = value
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined
    node = (node as Record<PathKey, unknown>)[key]
  }
  return node
}

/** A value as JSON, cut short. */
function shown(value: unknown): string {
  return excerpt(JSON.stringify(value) ?? String(value))
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return `a list of ${value.length}`
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  return `${typeof value} ${String(value)}`
}
