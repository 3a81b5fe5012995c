/**
 * Choosing the Python that trains (DESIGN.md order) and asking it what it has.
 *
 *   --python, MLX_PYTHON, `launch.python` in the experiment config, `python:` in mlx.yaml,
 *   the project's .venv, mlx's own .venv (made by `make setup`), then python3 on PATH.
 */
import {existsSync} from 'node:fs'
import {isAbsolute, join, resolve} from 'node:path'
import {execa} from 'execa'
import {UserError} from './errors.js'
import {ownPython, runtimeDir} from './paths.js'
import type {Project} from './project.js'

export interface PythonChoice {
  command: string
  reason: string
}

export function choosePython(project: Project, flag?: string, configured?: {python: string; file: string}, env: NodeJS.ProcessEnv = process.env): PythonChoice {
  const asGiven = (value: string, base: string) => (value.includes('/') && !isAbsolute(value) ? resolve(base, value) : value)
  if (flag) return {command: asGiven(flag, process.cwd()), reason: '--python'}
  if (env.MLX_PYTHON) return {command: asGiven(env.MLX_PYTHON, process.cwd()), reason: 'MLX_PYTHON'}
  if (configured) return {command: asGiven(configured.python, project.root), reason: `launch.python in ${configured.file}`}
  if (project.settings.python) return {command: asGiven(project.settings.python, project.root), reason: `python: in ${project.file}`}
  const projectVenv = join(project.root, '.venv', 'bin', 'python')
  if (existsSync(projectVenv)) return {command: projectVenv, reason: "the project's .venv"}
  if (existsSync(ownPython)) return {command: ownPython, reason: "mlx's own environment (make setup)"}
  return {command: 'python3', reason: 'python3 on PATH'}
}

/** What `python -m mlx_runtime` reports (python/mlx_runtime/envinfo.py). */
export interface PythonEnvironment {
  python: string
  executable: string
  platform: string
  host: string
  torch: string | null
  torch_error?: string
  cuda_available: boolean
  cuda_version: string | null
  cudnn_version: number | null
  gpus: Array<{index: number; name: string; memory_gib: number; capability: string}>
  torchrun: string | null
  /** `name==version` of every installed distribution (with --packages). */
  packages?: string[]
}

/** Environment variables that let any interpreter import mlx_runtime without installing it. */
export function runtimeEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const pythonPath = [runtimeDir, env.PYTHONPATH].filter(Boolean).join(':')
  return {PYTHONPATH: pythonPath, PYTHONUNBUFFERED: '1'}
}

const SETUP_HINT = 'run `make setup` in the mlx checkout, or point --python / MLX_PYTHON / `python:` in mlx.yaml at an interpreter with torch'

// Finds torch without importing it (importing takes seconds; this takes a tenth of one).
const QUICK_CHECK = `
import importlib.metadata, importlib.util, json, platform, sys
has_torch = importlib.util.find_spec("torch") is not None
print(json.dumps({"python": platform.python_version(), "executable": sys.executable,
                  "torch": importlib.metadata.version("torch") if has_torch else None}))
`

export interface QuickCheck {
  python: string
  executable: string
  torch: string | null
}

async function runPython(choice: PythonChoice, args: string[]): Promise<string> {
  const result = await execa(choice.command, args, {env: runtimeEnv(), reject: false, timeout: 120_000})
  if ((result as {code?: string}).code === 'ENOENT') {
    throw new UserError(`Python interpreter not found: ${choice.command} (chosen by ${choice.reason})`, SETUP_HINT)
  }
  if (result.exitCode !== 0) {
    const tail = String(result.stderr ?? result.message).trim().split('\n').slice(-3).join('\n')
    throw new UserError(`${choice.command} (chosen by ${choice.reason}) failed:\n${tail}`, SETUP_HINT)
  }
  return String(result.stdout)
}

function requireTorch(choice: PythonChoice, found: {python: string; torch: string | null; torch_error?: string}): void {
  if (found.torch) return
  throw new UserError(
    `${choice.command} (Python ${found.python}, chosen by ${choice.reason}) has no torch${found.torch_error ? `: ${found.torch_error}` : ''}`,
    `install it there with \`${choice.command} -m pip install torch\`, or ${SETUP_HINT}`,
  )
}

/** Fast: the interpreter runs and has torch. A UserError that says how to fix it otherwise. */
export async function checkPython(choice: PythonChoice): Promise<QuickCheck> {
  const found = JSON.parse(await runPython(choice, ['-c', QUICK_CHECK])) as QuickCheck
  requireTorch(choice, found)
  return found
}

/** How many CUDA GPUs torch sees in this environment (imports torch: ~1-2 s). */
export async function countGpus(choice: PythonChoice): Promise<number> {
  return Number((await runPython(choice, ['-c', 'import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)'])).trim())
}

/** Slow (imports torch): versions, CUDA, GPUs, torchrun; with `packages`, every installed distribution. */
export async function probePython(choice: PythonChoice, options: {packages?: boolean} = {}): Promise<PythonEnvironment> {
  const info = JSON.parse(await runPython(choice, ['-m', 'mlx_runtime', ...(options.packages ? ['--packages'] : [])])) as PythonEnvironment
  requireTorch(choice, info)
  return info
}
