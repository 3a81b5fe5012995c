/** `mlx doctor`: which Python trains and why, its torch, CUDA and GPUs, torchrun, Slurm, and whether the store is sound. */
import {existsSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {execa} from 'execa'
import {MlxError} from '../errors.js'
import {mlxVersion, packageRoot} from './paths.js'
import type {Project} from './project.js'
import {choosePython, probePython, type PythonChoice, type PythonEnvironment} from './python.js'

export interface DoctorReport {
  mlx: {version: string; installedAt: string; node: string}
  project: {root: string; file: string | null; store: string}
  python: PythonChoice & {
    ok: boolean
    environment: PythonEnvironment | null
    problem: string | null
    hint: string | null
  }
  store: StoreCheck
  slurm: {sbatch: string | null; version: string | null}
  /** Whether everything mlx needs to train and keep runs is in order. */
  ok: boolean
}

export interface StoreCheck {
  path: string
  ok: boolean
  /** Runs in the index (null when it cannot be read). */
  runs: number | null
  /** Why the store cannot be written, or null. */
  readOnly: string | null
  /** Runs the index lacked, indexed from their directories by this check. */
  indexed: string[]
  problems: string[]
  hint: string | null
}

async function slurmVersion(): Promise<{sbatch: string | null; version: string | null}> {
  const which = await execa('sh', ['-c', 'command -v sbatch'], {reject: false})
  if (which.exitCode !== 0) return {sbatch: null, version: null}
  const version = await execa('sbatch', ['--version'], {reject: false, timeout: 10_000})
  return {sbatch: String(which.stdout).trim(), version: version.exitCode === 0 ? String(version.stdout).trim() : null}
}

/** A run directory younger than this without its run.json is being made, not broken. */
const MAKING_SECONDS = 60

/**
 * The store: SQLite's own check of the index, run directories it cannot index (indexed first
 * where it can), runs whose directory is gone. A store not made yet is in order.
 */
async function checkStore(storeDir: string): Promise<StoreCheck> {
  const check: StoreCheck = {path: storeDir, ok: true, runs: 0, readOnly: null, indexed: [], problems: [], hint: null}
  if (!existsSync(storeDir)) return check
  const {INDEX_FILE, openStoreReporting, storeFailure} = await import('../store/open.js')
  const {indexMissingRuns} = await import('../store/rebuild.js')
  try {
    const {store, indexed} = await openStoreReporting(storeDir, 'read')
    try {
      check.readOnly = store.readOnly
      const integrity = store.check()
      if (integrity.join() !== 'ok') check.problems.push(`${INDEX_FILE}: ${integrity.slice(0, 3).join('; ')}`)
      const scan = indexMissingRuns(store, {force: true})
      check.indexed = [...indexed.indexed, ...scan.indexed]
      const now = Date.now() / 1000
      for (const skipped of scan.skipped) {
        if (now - statSync(store.runDir(skipped.id)).mtimeMs / 1000 > MAKING_SECONDS)
          check.problems.push(`runs/${skipped.id} cannot be indexed: ${skipped.problem}`)
      }
      for (const id of store.runIds())
        if (!existsSync(store.runDir(id)))
          check.problems.push(`run ${id} is in the index, but its directory runs/${id} is gone`)
      check.runs = store.runCount()
    } finally {
      store.close()
    }
  } catch (error) {
    const failure = storeFailure(error, join(storeDir, INDEX_FILE))
    if (!(failure instanceof MlxError)) throw failure
    check.runs = null
    check.problems.push(failure.message)
    check.hint = failure.hint ?? null
  }
  check.ok = check.problems.length === 0
  check.hint ??= check.ok
    ? null
    : 'mlx store rebuild rebuilds the index from the run directories; a run directory mlx cannot read is left as it is for you to look at (or remove)'
  return check
}

export async function diagnose(project: Project, pythonFlag?: string): Promise<DoctorReport> {
  const choice = choosePython(project, pythonFlag)
  let environment: PythonEnvironment | null = null
  let problem: string | null = null
  let hint: string | null = null
  try {
    environment = await probePython(choice)
  } catch (error) {
    if (!(error instanceof MlxError)) throw error
    problem = error.message
    hint = error.hint ?? null
  }
  const store = await checkStore(project.storeDir)
  return {
    mlx: {version: mlxVersion(), installedAt: packageRoot, node: process.version},
    project: {root: project.root, file: project.file ?? null, store: project.storeDir},
    python: {...choice, ok: environment !== null, environment, problem, hint},
    store,
    slurm: await slurmVersion(),
    ok: environment !== null && store.ok,
  }
}
