/**
 * Loading an experiment config, in this order:
 *
 *   1. each file (YAML, checked for size, encoding and syntax), with `${env:NAME}`
 *      references in its strings replaced;
 *   2. `extends:` bases loaded first and deep-merged under the file (mappings merge,
 *      lists and scalars replace; later wins; cycles are caught);
 *   3. `--set key.path=VALUE` overrides on top;
 *   4. the zod schema.
 *
 * Every problem is reported at once as `FILE:LINE:COL: key.path: message (hint)`, where
 * FILE is the file (a base file too) that wrote the offending value, or the `--set`
 * flag that did.
 */
import {existsSync, realpathSync, statSync} from 'node:fs'
import {dirname, relative, resolve} from 'node:path'
import {parse as parseYamlValue, stringify} from 'yaml'
import {ConfigError, excerpt, type Diagnostic} from '../errors.js'
import {ExperimentConfigSchema, type ExperimentConfig} from './schema.js'
import {RECIPES} from './tasks/index.js'
import {closest} from './suggest.js'
import {flattenParams} from './params.js'
import {defaultListProblem, describeIssue, isMapping, valueAt, type Located} from './diagnose.js'
import {positionOf, readYaml, type PathKey, type YamlSource} from './yaml-source.js'

export interface Override {
  /** The flag as the user typed it, e.g. `--set optim.lr=0.01` (long values cut short). */
  flag: string
  path: string[]
  value: unknown
}

/** What the command line sets besides `--set`: `--name` (taken as text, never parsed as YAML). */
export interface CommandLineValues {
  name?: string
  /**
   * The project root the run would train in: the files and folders the recipe reads (data.path...)
   * are checked there, so a missing one is a config problem at its position, before any run is made.
   */
  root?: string
}

export interface LoadedConfig {
  file: string
  config: ExperimentConfig
  /** Every file that contributed, bases first. */
  files: string[]
}

type Mapping = Record<string, unknown>

const pathKey = (path: readonly PathKey[]) => path.map(String).join('\u0000')

/**
 * Keys come from files and flags: `__proto__` must stay a key like any other (the schema then
 * reports it as unknown) and never reach an object's prototype, so keys are read and written
 * as own properties only.
 */
function ownValue(node: Mapping, key: string): unknown {
  return Object.hasOwn(node, key) ? node[key] : undefined
}

function setOwn(node: Mapping, key: string, value: unknown): void {
  Object.defineProperty(node, key, {value, enumerable: true, writable: true, configurable: true})
}

/** Parses `--set key.path=VALUE` flags; VALUE is YAML (`0.01`, `true`, `[32, 64]`, `adam`). */
export function parseOverrides(sets: readonly string[]): {overrides: Override[]; diagnostics: Diagnostic[]} {
  const overrides: Override[] = []
  const diagnostics: Diagnostic[] = []
  for (const set of sets) {
    const flag = `--set ${excerpt(set)}`
    const eq = set.indexOf('=')
    const key = eq < 0 ? '' : set.slice(0, eq).trim()
    const path = key.split('.')
    if (eq < 0 || key === '' || path.some((part) => part === '')) {
      diagnostics.push({
        source: flag,
        path: '',
        message: 'expected KEY.PATH=VALUE',
        hint: 'for example --set optim.lr=0.01',
      })
      continue
    }
    if (path[0] === 'extends') {
      diagnostics.push({
        source: flag,
        path: key,
        message: 'extends cannot be set from the command line',
        hint: 'name the base in the file',
      })
      continue
    }
    try {
      overrides.push({flag, path, value: parseYamlValue(set.slice(eq + 1))})
    } catch (error) {
      diagnostics.push({
        source: flag,
        path: key,
        message: `the value is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
      })
    }
  }
  return {overrides, diagnostics}
}

/** Loads, composes, overrides and validates one config file. Throws ConfigError with every problem. */
export function loadConfig(file: string, sets: readonly string[] = [], values: CommandLineValues = {}): LoadedConfig {
  const result = checkConfig(file, sets, values)
  if ('diagnostics' in result) throw new ConfigError(result.diagnostics)
  return result
}

/**
 * The params (flat keys) of `config` whose value differs from its recipe's default: the value
 * a config holding only its name and task (and, for a script, its path) resolves to.
 */
export function nonDefaultParams(config: ExperimentConfig): string[] {
  const bare = ExperimentConfigSchema.safeParse({
    name: config.name,
    task: config.task,
    ...(config.task === 'script' ? {script: {path: config.script.path}} : {}),
  })
  if (!bare.success) return []
  const defaults = flattenParams(bare.data)
  return Object.entries(flattenParams(config))
    .filter(([key, value]) => !Object.hasOwn(defaults, key) || JSON.stringify(value) !== JSON.stringify(defaults[key]))
    .map(([key]) => key)
}

/** A config `mlx validate` found valid. */
export interface ValidConfig {
  file: string
  name: string
  task: string
  /** Every file that contributed, bases first. */
  files: string[]
  /** The resolved config. */
  config: ExperimentConfig
}

/** Checks every file; the valid ones, and every problem of the others at once. */
export function checkConfigs(
  files: readonly string[],
  sets: readonly string[],
  values: CommandLineValues,
): {valid: ValidConfig[]; problems: Diagnostic[]} {
  const valid: ValidConfig[] = []
  const problems: Diagnostic[] = []
  for (const file of files) {
    const result = checkConfig(file, sets, values)
    if ('diagnostics' in result) problems.push(...result.diagnostics)
    else
      valid.push({file, name: result.config.name, task: result.config.task, files: result.files, config: result.config})
  }
  return {valid, problems}
}

/** The resolved configs as YAML documents, each headed by its file and the bases it extends. */
export function resolvedConfigsYaml(valid: readonly ValidConfig[]): string {
  const bases = (ok: ValidConfig) => (ok.files.length > 1 ? ` (with ${ok.files.slice(0, -1).join(', ')})` : '')
  return valid.map((ok) => `# ${ok.file}${bases(ok)}\n${stringify(ok.config)}`).join('---\n')
}

/** Like loadConfig, but returns the problems instead of throwing (for `mlx validate` on many files). */
export function checkConfig(
  file: string,
  sets: readonly string[] = [],
  values: CommandLineValues = {},
): LoadedConfig | {diagnostics: Diagnostic[]} {
  const parsedSets = parseOverrides(sets)
  // --name is the config's name from the command line: the schema's name rule checks it like any other.
  const overrides = [
    ...parsedSets.overrides,
    ...(values.name === undefined
      ? []
      : [{flag: `--name ${excerpt(JSON.stringify(values.name))}`, path: ['name'], value: values.name}]),
  ]
  const fileProblems: Diagnostic[] = []
  const layers = loadLayers(file, [], fileProblems)
  const overrideProblems = [...parsedSets.diagnostics]
  if (fileProblems.length > 0 || !layers) return {diagnostics: [...fileProblems.sort(byPosition), ...overrideProblems]}

  const {value, origins} = mergeLayers(layers)
  for (const override of overrides) {
    const problem = defaultListProblem(value, override.path) ?? setIn(value, override.path, override.value)
    if (problem) overrideProblems.push({source: override.flag, path: override.path.join('.'), ...problem})
  }
  if (overrideProblems.length > 0) return {diagnostics: overrideProblems}

  const parsed = ExperimentConfigSchema.safeParse(value)
  const files = [...new Set(layers.map((layer) => layer.source.file))]
  const locate = (path: readonly PathKey[], key?: string): Located => {
    const full = key === undefined ? path : [...path, key]
    const within = (outer: readonly PathKey[], inner: readonly PathKey[]) =>
      outer.length <= inner.length && outer.every((part, i) => String(inner[i]) === String(part))
    // The flag that set this value (or a mapping holding it), else the flag that made this node where no file has it.
    const override =
      overrides.findLast((o) => within(o.path, full)) ??
      (origins.has(pathKey(full)) ? undefined : overrides.findLast((o) => within(full, o.path)))
    if (override) return {source: override.flag}
    for (let depth = full.length; depth >= 0; depth--) {
      const origin = origins.get(pathKey(full.slice(0, depth)))
      if (origin) return {source: origin.file, ...positionOf(origin, path, key)}
    }
    return {source: file, line: 1, column: 1}
  }
  if (parsed.success) {
    const inputs = values.root === undefined ? [] : inputProblems(parsed.data, values.root)
    const unknown = [
      ...unknownMetrics(parsed.data, value),
      ...launchProblems(parsed.data),
      ...resolveScriptPath(parsed.data, locate),
      ...inputs,
    ].map(({path, message, hint}) => ({...locate(path), path: path.join('.'), message, hint}))
    return unknown.length > 0 ? {diagnostics: unknown.sort(byPosition)} : {file, config: parsed.data, files}
  }
  const diagnostics = parsed.error.issues.flatMap((issue) => describeIssue(issue, locate, value))
  return {diagnostics: diagnostics.sort(byPosition)}
}

/** Where keys and values of a config file (or one of its bases) are written, for checks made after loading (mlx sweep's): the file is read once. */
export function configLocator(file: string): (path: readonly PathKey[], key?: string) => Located {
  const layers = loadLayers(file, [], [])
  const origins = layers ? mergeLayers(layers).origins : new Map<string, YamlSource>()
  return (path, key) => {
    const full = key === undefined ? path : [...path, key]
    for (let depth = full.length; depth >= 0; depth--) {
      const origin = origins.get(pathKey(full.slice(0, depth)))
      if (origin)
        return depth === full.length
          ? {source: origin.file, ...positionOf(origin, path, key)}
          : {source: origin.file, ...positionOf(origin, full.slice(0, depth))}
    }
    return {source: file, line: 1, column: 1}
  }
}

/**
 * Metrics the config watches that the recipe does not log at evaluation. The primary
 * metric and every monitor must be evaluation metrics: they are checked when the script
 * evaluates. A monitor left to its default (metrics.primary) is checked once, there.
 */
function unknownMetrics(
  config: ExperimentConfig,
  raw: unknown,
): Array<{path: string[]; message: string; hint: string}> {
  // A user's script logs whatever it logs.
  if (config.task === 'script') return []
  const allowed = RECIPES[config.task].evalMetrics(config)
  const watched: Array<[string[], string | undefined]> = [
    [['metrics', 'primary'], config.metrics.primary],
    [['train', 'early_stopping', 'monitor'], config.train.early_stopping?.monitor],
    [['train', 'checkpoint', 'monitor'], config.train.checkpoint.best ? config.train.checkpoint.monitor : undefined],
    [['scheduler', 'monitor'], config.scheduler.name === 'plateau' ? config.scheduler.monitor : undefined],
  ]
  return watched
    .filter(
      ([path, metric], index) =>
        metric !== undefined &&
        !allowed.includes(metric) &&
        (index === 0 || valueAt(raw, path) !== undefined || path[0] === 'scheduler'),
    )
    .map(([path, metric]) => {
      const suggestion = closest(metric!, allowed)
      return {
        path,
        message: `${config.task} does not log ${JSON.stringify(metric)} at evaluation`,
        hint: suggestion ? `did you mean ${suggestion}?` : `it logs ${allowed.join(', ')}`,
      }
    })
}

/**
 * `script.path` made absolute, relative to the file that set it (or to the working directory
 * for --set), so that the resolved config runs from anywhere; a missing file is a problem.
 */
function resolveScriptPath(
  config: ExperimentConfig,
  locate: (path: readonly PathKey[]) => Located,
): Array<{path: string[]; message: string; hint: string}> {
  if (config.task !== 'script') return []
  const {source} = locate(['script', 'path'])
  const base = source.startsWith('--set') ? process.cwd() : dirname(source)
  config.script.path = resolve(base, config.script.path)
  if (existsSync(config.script.path) && statSync(config.script.path).isFile()) return []
  return [
    {
      path: ['script', 'path'],
      message: `no such file: ${config.script.path}`,
      hint: 'script.path is relative to the config file that names it',
    },
  ]
}

/** The files and folders the recipe will read, each there and of its kind (relative to the project root, where the script runs). */
function inputProblems(config: ExperimentConfig, root: string): Array<{path: string[]; message: string; hint: string}> {
  return RECIPES[config.task].inputs(config).flatMap(({key, kind, hint}) => {
    const named = String(valueAt(config, key))
    const path = resolve(root, named)
    let found: 'file' | 'directory' | 'other' | undefined
    try {
      const stats = statSync(path)
      found = stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : 'other'
    } catch {
      found = undefined
    }
    if (found === kind) return []
    const what = kind === 'file' ? 'file' : 'folder'
    const message =
      found === undefined ? `no such ${what}: ${excerpt(path, 200)}` : `${excerpt(path, 200)} is not a ${what}`
    return [
      {
        path: key,
        message,
        hint: hint ?? `paths in data and model are relative to the project root (${excerpt(root, 200)})`,
      },
    ]
  })
}

/** A recipe that trains in one process cannot run under torchrun (or as a Slurm job of several processes). */
function launchProblems(config: ExperimentConfig): Array<{path: string[]; message: string; hint: string}> {
  const {launch} = config
  const several =
    launch.launcher === 'torchrun' ||
    (launch.launcher === 'slurm' && (launch.slurm.nodes > 1 || launch.nproc_per_node !== 1))
  if (!several || RECIPES[config.task].distributed) return []
  const distributed = Object.values(RECIPES)
    .filter((recipe) => recipe.distributed)
    .map((recipe) => recipe.task)
  if (launch.launcher === 'slurm') {
    return [
      {
        path: ['launch', 'nproc_per_node'],
        message: `the ${config.task} recipe trains in one process: its Slurm job runs one process on one node`,
        hint: 'set launch.nproc_per_node: 1 and launch.slurm.nodes: 1',
      },
    ]
  }
  return [
    {
      path: ['launch', 'launcher'],
      message: `the ${config.task} recipe trains in one process: it does not run under torchrun`,
      hint: `recipes that train data-parallel: ${distributed.join(', ')}; set launch.launcher: local`,
    },
  ]
}

// -----------------------------------------------------------------------------
// Files, bases and environment references

interface Layer {
  source: YamlSource
  value: Mapping
}

/** The layers of `file`: its bases (recursively, in order), then the file itself. */
function loadLayers(file: string, chain: readonly string[], diagnostics: Diagnostic[]): Layer[] | undefined {
  const read = readYaml(file)
  if ('diagnostics' in read) {
    diagnostics.push(...read.diagnostics)
    return undefined
  }
  const value = structuredClone(read.value) as Mapping
  const problemsBefore = diagnostics.length
  replaceEnvReferences(value, [], read.source, diagnostics)

  const layers: Layer[] = []
  const bases = value.extends
  delete value.extends
  if (bases !== undefined) {
    const list =
      typeof bases === 'string'
        ? [bases]
        : Array.isArray(bases) && bases.every((b) => typeof b === 'string' && b !== '')
          ? (bases as string[])
          : undefined
    if (!list || list.length === 0) {
      diagnostics.push({
        source: file,
        ...positionOf(read.source, ['extends']),
        path: 'extends',
        message: 'expected a file name or a list of file names',
      })
      return undefined
    }
    const here = realpathSync(file)
    list.forEach((base, index) => {
      const at = {
        source: file,
        ...positionOf(read.source, typeof bases === 'string' ? ['extends'] : ['extends', index]),
        path: 'extends',
      }
      const absolute = resolve(dirname(file), base)
      const basePath = relative(process.cwd(), absolute) || absolute
      if (!existsSync(basePath) || statSync(basePath).isDirectory()) {
        diagnostics.push({
          ...at,
          message: `base config ${JSON.stringify(base)} not found (looked for ${basePath})`,
          hint: 'a base is named relative to the file that extends it',
        })
        return
      }
      const real = realpathSync(basePath)
      const cycle = [...chain, here]
      if (cycle.includes(real)) {
        const names = [...cycle.slice(cycle.indexOf(real)), real].map((p) => relative(process.cwd(), p) || p)
        diagnostics.push({...at, message: `extends cycle: ${names.join(' -> ')}`})
        return
      }
      const baseLayers = loadLayers(basePath, cycle, diagnostics)
      if (baseLayers) layers.push(...baseLayers)
    })
  }
  if (diagnostics.length > problemsBefore) return undefined
  layers.push({source: read.source, value})
  return layers
}

const ENV_REFERENCE = /\$?\$\{env:([^}]*)\}/g
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * `${env:NAME}` and `${env:NAME,default}` in string values. A value that is one
 * reference and nothing else is parsed as YAML (`lr: ${env:LR,0.001}` is a number);
 * inside longer text it is plain text. `$${env:NAME}` stands for the literal text.
 */
function replaceEnvReferences(
  node: unknown,
  path: PathKey[],
  source: YamlSource,
  diagnostics: Diagnostic[],
  env = process.env,
): unknown {
  if (Array.isArray(node)) {
    node.forEach(
      (item, index) => (node[index] = replaceEnvReferences(item, [...path, index], source, diagnostics, env)),
    )
    return node
  }
  if (isMapping(node)) {
    for (const [key, item] of Object.entries(node))
      setOwn(node, key, replaceEnvReferences(item, [...path, key], source, diagnostics, env))
    return node
  }
  if (typeof node !== 'string' || !node.includes('${env:')) return node

  const problem = (message: string, hint?: string) => {
    diagnostics.push({source: source.file, ...positionOf(source, path), path: path.join('.'), message, hint})
    return node
  }
  // What is left once every whole reference is taken out: a `${env:` there was never closed.
  if (/(^|[^$])\$\{env:/.test(node.replace(ENV_REFERENCE, '')))
    return problem(
      'an environment reference ${env:... is not closed with }',
      'write ${env:NAME} or ${env:NAME,default}; $${env:...} stands for the text itself',
    )
  let whole: string | undefined
  let failed = false
  const replaced = node.replace(ENV_REFERENCE, (match, body: string) => {
    if (match.startsWith('$$')) return match.slice(1)
    const comma = body.indexOf(',')
    const name = comma < 0 ? body : body.slice(0, comma)
    if (!ENV_NAME.test(name)) {
      failed = true
      problem(`malformed environment reference ${excerpt(match)}`, 'write ${env:NAME} or ${env:NAME,default}')
      return match
    }
    const value = env[name] ?? (comma < 0 ? undefined : body.slice(comma + 1))
    if (value === undefined) {
      failed = true
      problem(`environment variable ${name} is not set`, `set it, or give a default: \${env:${name},VALUE}`)
      return match
    }
    if (match === node) whole = value
    return value
  })
  if (failed) return node
  if (whole !== undefined) {
    try {
      return parseYamlValue(whole)
    } catch {
      return whole
    }
  }
  return replaced
}

/** Deep merge, later layers winning: mappings merge, lists and scalars replace. Records which file wrote each path. */
function mergeLayers(layers: readonly Layer[]): {value: Mapping; origins: Map<string, YamlSource>} {
  const origins = new Map<string, YamlSource>()
  const value: Mapping = {}
  const record = (node: unknown, path: PathKey[], source: YamlSource) => {
    origins.set(pathKey(path), source)
    if (Array.isArray(node)) node.forEach((item, index) => record(item, [...path, index], source))
    else if (isMapping(node)) for (const [key, item] of Object.entries(node)) record(item, [...path, key], source)
  }
  const mergeInto = (target: Mapping, layer: Mapping, path: PathKey[], source: YamlSource) => {
    origins.set(pathKey(path), source)
    for (const [key, item] of Object.entries(layer)) {
      const existing = ownValue(target, key)
      if (isMapping(item) && isMapping(existing)) {
        mergeInto(existing, item, [...path, key], source)
      } else {
        setOwn(target, key, structuredClone(item))
        record(item, [...path, key], source)
      }
    }
  }
  for (const layer of layers) mergeInto(value, layer.value, [], layer.source)
  return {value, origins}
}

/**
 * `--set a.b.c=VALUE`: mappings on the way are made where missing (or where a scalar stood); a
 * list is indexed by position (`model.channels.0=8`, or one past its end to append). A word that
 * cannot index a list is a problem, never a list silently turned into a mapping.
 */
function setIn(target: Mapping, path: readonly string[], value: unknown): {message: string; hint?: string} | undefined {
  let node: Mapping | unknown[] = target
  for (const [depth, part] of path.entries()) {
    const last = depth === path.length - 1
    if (Array.isArray(node)) {
      const at = path.slice(0, depth).join('.')
      if (!/^(0|[1-9]\d*)$/.test(part))
        return {
          message: `${at} is a list: a position (0, 1, ...) comes after it, not ${JSON.stringify(excerpt(part))}`,
          hint: `to replace the whole list: --set ${at}=[...]`,
        }
      const index = Number(part)
      if (index > node.length)
        return {
          message: `${at} has ${node.length} items: position ${index} is past its end`,
          hint: `positions run from 0 to ${node.length} (${node.length} appends)`,
        }
      if (last) node[index] = value
      else {
        if (typeof node[index] !== 'object' || node[index] === null) node[index] = {}
        node = node[index] as Mapping | unknown[]
      }
      continue
    }
    if (last) setOwn(node, part, value)
    else {
      const next = ownValue(node, part)
      if (typeof next !== 'object' || next === null) setOwn(node, part, {})
      node = ownValue(node, part) as Mapping | unknown[]
    }
  }
  return undefined
}

/** File positions in reading order, then the --set flags. */
function byPosition(a: Diagnostic, b: Diagnostic): number {
  const flag = (d: Diagnostic) => (d.line === undefined ? 1 : 0)
  return (
    flag(a) - flag(b) ||
    a.source.localeCompare(b.source) ||
    (a.line ?? 0) - (b.line ?? 0) ||
    (a.column ?? 0) - (b.column ?? 0)
  )
}
