/**
 * Choosing the Python that trains (in the order docs/config.md gives) and asking it what it has.
 *
 *   --python, MLX_PYTHON, `launch.python` in the experiment config, `python:` in mlx.yaml,
 *   the project's .venv, mlx's own .venv (made by `make setup`), then python3 on PATH.
 */
import {spawn} from 'node:child_process'
import {existsSync, statSync} from 'node:fs'
import {setPriority} from 'node:os'
import {isAbsolute, join, resolve} from 'node:path'
import {excerpt, UserError} from '../errors.js'
import {ownPython, runtimeDir} from './paths.js'
import type {Project} from './project.js'

export interface PythonChoice {
  command: string
  reason: string
}

export function choosePython(
  project: Project,
  flag?: string,
  configured?: {python: string; file: string},
  env: NodeJS.ProcessEnv = process.env,
): PythonChoice {
  const asGiven = (value: string, base: string) =>
    value.includes('/') && !isAbsolute(value) ? resolve(base, value) : value
  if (flag) return {command: asGiven(flag, process.cwd()), reason: '--python'}
  if (env.MLX_PYTHON) return {command: asGiven(env.MLX_PYTHON, process.cwd()), reason: 'MLX_PYTHON'}
  if (configured)
    return {command: asGiven(configured.python, project.root), reason: `launch.python in ${configured.file}`}
  if (project.settings.python)
    return {command: asGiven(project.settings.python, project.root), reason: `python: in ${project.file}`}
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

const SETUP_HINT =
  'run `make setup` in the mlx checkout, or point --python / MLX_PYTHON / `python:` in mlx.yaml at an interpreter with torch'

export interface QuickCheck {
  python: string
  executable: string
  torch: string | null
}

/**
 * How long a question to the interpreter may take (MLX_PROBE_TIMEOUT_SECONDS overrides it): a
 * quick check starts Python alone; the others import torch, which can take a minute on a cold disk.
 */
function probeTimeoutMs(defaultSeconds: number, env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env.MLX_PROBE_TIMEOUT_SECONDS)
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : defaultSeconds) * 1000
}

/** The niceness of a probe that runs beside a trainer. */
const BACKGROUND_PRIORITY = 19

/** What an answer of the interpreter's may hold: its JSON record, a traceback. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024

/**
 * Runs the interpreter with `args` and returns what it printed. It runs in a process group of its
 * own: at the timeout the whole group is killed (a wrapper's children too), and once the
 * interpreter has exited nobody waits for a child of its that still holds its output open.
 */
async function runPython(choice: PythonChoice, args: string[], timeoutMs: number, background = false): Promise<string> {
  const who = `${choice.command} (chosen by ${choice.reason})`
  const result = await new Promise<{
    code: number | null
    signal: NodeJS.Signals | null
    stdout: string
    stderr: string
    timedOut: boolean
    spawnError?: NodeJS.ErrnoException
  }>((settle) => {
    const child = spawn(choice.command, args, {
      env: {...process.env, ...runtimeEnv()},
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    if (background && child.pid !== undefined) {
      try {
        // Beside a trainer, on the same cores: it takes what the trainer leaves.
        setPriority(child.pid, BACKGROUND_PRIORITY)
      } catch {
        // Not allowed here: it runs at the usual priority.
      }
    }
    const output = {stdout: [] as Buffer[], stderr: [] as Buffer[], bytes: 0}
    const keep = (into: Buffer[]) => (chunk: Buffer) => {
      if (output.bytes < MAX_ANSWER_BYTES) into.push(chunk)
      output.bytes += chunk.length
    }
    child.stdout.on('data', keep(output.stdout))
    child.stderr.on('data', keep(output.stderr))
    let timedOut = false
    let settled = false
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      } catch {
        // The group is gone already.
      }
    }
    const timer = setTimeout(() => {
      timedOut = true
      killGroup()
    }, timeoutMs)
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: NodeJS.ErrnoException) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      killGroup()
      child.stdout.destroy()
      child.stderr.destroy()
      settle({
        code,
        signal,
        stdout: Buffer.concat(output.stdout).toString('utf8'),
        stderr: Buffer.concat(output.stderr).toString('utf8'),
        timedOut,
        spawnError,
      })
    }
    child.on('error', (error: NodeJS.ErrnoException) => finish(null, null, error))
    // Output normally ends with the process; a child that holds it open longer is not waited for.
    child.on('exit', (code, signal) => {
      const grace = setTimeout(() => finish(code, signal), 1000)
      child.on('close', () => {
        clearTimeout(grace)
        finish(code, signal)
      })
    })
  })
  if (result.spawnError) {
    const code = result.spawnError.code
    if (code === 'ENOENT') throw new UserError(`Python interpreter not found: ${who}`, SETUP_HINT)
    if (code === 'EACCES') {
      const folder = existsSync(choice.command) && statSync(choice.command).isDirectory()
      throw new UserError(
        `${who} ${folder ? 'is a directory, not a Python interpreter' : 'cannot be run (permission denied: not executable)'}`,
        SETUP_HINT,
      )
    }
    throw new UserError(`${who} cannot be run (${code ?? result.spawnError.message})`, SETUP_HINT)
  }
  if (result.timedOut) {
    throw new UserError(
      `${who} did not answer within ${timeoutMs / 1000} s (timed out): it was stopped, with every process it started`,
      `is it a Python interpreter? MLX_PROBE_TIMEOUT_SECONDS allows longer where starting Python is slow; ${SETUP_HINT}`,
    )
  }
  if (result.code !== 0) {
    const tail = result.stderr
      .trim()
      .split('\n')
      .slice(-3)
      .map((line) => excerpt(line, 300))
      .join('\n')
    const how = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.code}`
    throw new UserError(
      tail
        ? `${who} ${how}:\n${tail}`
        : `${who} ${how} and printed nothing: it does not behave as a Python interpreter`,
      SETUP_HINT,
    )
  }
  return result.stdout
}

/** The interpreter's answer as JSON; anything else means it is not the Python it should be. */
function answerOf<T>(choice: PythonChoice, stdout: string): T {
  try {
    return JSON.parse(stdout) as T
  } catch {
    const first = stdout.trim().split('\n')[0] ?? ''
    throw new UserError(
      `${choice.command} (chosen by ${choice.reason}) answered with something that is not Python's: ${JSON.stringify(excerpt(first, 120))}`,
      SETUP_HINT,
    )
  }
}

function requireTorch(choice: PythonChoice, found: {python: string; torch: string | null; torch_error?: string}): void {
  if (found.torch) return
  throw new UserError(
    `${choice.command} (Python ${found.python}, chosen by ${choice.reason}) has no torch${found.torch_error ? `: ${found.torch_error}` : ''}`,
    `install it there with \`${choice.command} -m pip install torch\`, or ${SETUP_HINT}`,
  )
}

/**
 * Fast: the interpreter runs and has torch, found without importing it (`--probe quick`).
 * A UserError that says how to fix it otherwise.
 */
export async function checkPython(choice: PythonChoice): Promise<QuickCheck> {
  const found = answerOf<QuickCheck>(
    choice,
    await runPython(choice, ['-m', 'mlx_runtime', '--probe', 'quick'], probeTimeoutMs(30)),
  )
  requireTorch(choice, found)
  return found
}

/** How many CUDA GPUs torch sees in this environment (imports torch, which takes a while). */
export async function countGpus(choice: PythonChoice): Promise<number> {
  return answerOf<number>(
    choice,
    await runPython(choice, ['-m', 'mlx_runtime', '--probe', 'gpus'], probeTimeoutMs(180)),
  )
}

/**
 * Slow (imports torch): versions, CUDA, GPUs, torchrun; with `packages`, every installed distribution.
 * `background`: at the lowest priority, as beside a trainer.
 */
export async function probePython(
  choice: PythonChoice,
  options: {packages?: boolean; background?: boolean} = {},
): Promise<PythonEnvironment> {
  const info = answerOf<PythonEnvironment>(
    choice,
    await runPython(
      choice,
      ['-m', 'mlx_runtime', '--probe', 'environment', ...(options.packages ? ['--packages'] : [])],
      probeTimeoutMs(180),
      options.background,
    ),
  )
  requireTorch(choice, info)
  return info
}
