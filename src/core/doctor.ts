/** `mlx doctor`: which Python trains and why, its torch, CUDA and GPUs, torchrun, Slurm. */
import {execa} from 'execa'
import {MlxError} from './errors.js'
import {mlxVersion, packageRoot} from './paths.js'
import type {Project} from './project.js'
import {choosePython, probePython, type PythonChoice, type PythonEnvironment} from './python.js'

export interface DoctorReport {
  mlx: {version: string; installedAt: string; node: string}
  project: {root: string; file: string | null; store: string}
  python: PythonChoice & {ok: boolean; environment: PythonEnvironment | null; problem: string | null; hint: string | null}
  slurm: {sbatch: string | null; version: string | null}
}

async function slurmVersion(): Promise<{sbatch: string | null; version: string | null}> {
  const which = await execa('sh', ['-c', 'command -v sbatch'], {reject: false})
  if (which.exitCode !== 0) return {sbatch: null, version: null}
  const version = await execa('sbatch', ['--version'], {reject: false, timeout: 10_000})
  return {sbatch: String(which.stdout).trim(), version: version.exitCode === 0 ? String(version.stdout).trim() : null}
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
  return {
    mlx: {version: mlxVersion(), installedAt: packageRoot, node: process.version},
    project: {root: project.root, file: project.file ?? null, store: project.storeDir},
    python: {...choice, ok: environment !== null, environment, problem, hint},
    slurm: await slurmVersion(),
  }
}
