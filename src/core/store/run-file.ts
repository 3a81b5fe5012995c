/**
 * run.json: a run's own record in its directory. The store rewrites it whenever the run's row
 * changes; the index is rebuilt from it (with config.json and metrics.jsonl) when lost. Written
 * whole (a temporary file renamed over it), so a crash never leaves half of one.
 */
import {renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {readRegularFile} from '../files.js'
import {mlxVersion} from '../project/paths.js'
import {RUN_KINDS, RUN_STATUSES} from './status.js'
import type {RecoveredRun, RunRecord} from './store.js'

export const RUN_FILE = 'run.json'
export const CONFIG_FILE = 'config.json'
const MAX_RUN_FILE_BYTES = 16 * 1024 * 1024

export function writeRunFile(record: RunRecord): void {
  const {config: _config, runDir, ...rest} = record
  const path = join(runDir, RUN_FILE)
  const partial = `${path}.${process.pid}.partial`
  writeFileSync(partial, JSON.stringify({...rest, mlx: mlxVersion()}, null, 2) + '\n')
  renameSync(partial, path)
}

/** A run directory's run.json and config.json, checked field by field, or why they cannot be read. */
export function readRunDirectory(runDir: string, id: string): {run: RecoveredRun} | {problem: string} {
  const file = readJson(join(runDir, RUN_FILE))
  if ('problem' in file) return file
  const config = readJson(join(runDir, CONFIG_FILE))
  if ('problem' in config) return config
  const r = file.value
  const problems: string[] = []
  const field = <T>(key: string, ok: (value: unknown) => boolean, fallback?: T): T => {
    const value = Object.hasOwn(r, key) ? r[key] : fallback
    if (!ok(value)) problems.push(key)
    return value as T
  }
  const text = (value: unknown) => typeof value === 'string'
  const number = (value: unknown) => typeof value === 'number' && Number.isFinite(value)
  const integer = (value: unknown) => Number.isInteger(value)
  const or = (check: (value: unknown) => boolean) => (value: unknown) => value === null || check(value)
  const launch = field<Record<string, unknown>>('launch', (value) => typeof value === 'object' && value !== null, {
    launcher: 'local',
    worldSize: 1,
    nodes: 1,
  })
  const run: RecoveredRun = {
    id: field('id', (value) => value === id),
    name: field('name', text),
    task: field('task', text),
    status: field('status', (value) => (RUN_STATUSES as readonly unknown[]).includes(value)),
    createdAt: field('createdAt', number),
    endedAt: field('endedAt', or(number), null),
    exitCode: field('exitCode', or(integer), null),
    signal: field('signal', or(text), null),
    pid: field('pid', or(integer), null),
    host: field('host', text),
    primaryMetric: field('primaryMetric', text),
    primaryGoal: field('primaryGoal', (value) => value === null || value === 'min' || value === 'max', null),
    tags: field('tags', (value) => Array.isArray(value) && value.every(text), []),
    notes: field(
      'notes',
      (value) =>
        Array.isArray(value) &&
        value.every((note) => typeof note === 'object' && note !== null && number(note.at) && text(note.text)),
      [],
    ),
    error: field('error', or(text), null),
    launch: {
      launcher: typeof launch?.launcher === 'string' ? launch.launcher : 'local',
      worldSize: integer(launch?.worldSize) ? (launch.worldSize as number) : 1,
      nodes: integer(launch?.nodes) ? (launch.nodes as number) : 1,
    },
    stopRequestedAt: field('stopRequestedAt', or(number), null),
    jobId: field('jobId', or(text), null),
    trial: field(
      'trial',
      or(
        (value) =>
          typeof value === 'object' &&
          value !== null &&
          text((value as Record<string, unknown>).sweep) &&
          integer((value as Record<string, unknown>).number) &&
          or(integer)((value as Record<string, unknown>).seed ?? null) &&
          or(integer)((value as Record<string, unknown>).fold ?? null),
      ),
      null,
    ),
    kind: field('kind', (value) => (RUN_KINDS as readonly unknown[]).includes(value), 'train'),
    config: config.value,
  }
  if (problems.length > 0) return {problem: `${RUN_FILE} has no valid ${problems.join(', ')}`}
  return {run}
}

function readJson(path: string): {value: Record<string, unknown>} | {problem: string} {
  const name = path.split('/').at(-1)!
  const read = readRegularFile(path, MAX_RUN_FILE_BYTES, name)
  if ('problem' in read) return {problem: `${name}: ${read.problem}`}
  try {
    const value = JSON.parse(read.bytes.toString('utf8')) as unknown
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return {value: value as Record<string, unknown>}
    return {problem: `${name} is not a JSON object`}
  } catch (error) {
    return {problem: `${name} is not valid JSON (${(error as Error).message})`}
  }
}
