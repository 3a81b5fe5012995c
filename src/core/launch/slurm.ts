/**
 * The Slurm launcher: mlx writes a batch script into the run directory, submits it with
 * `sbatch`, and follows the job with `scontrol` (pending and its reason, running, the final
 * state and exit code). The job's output goes to the run directory's stdout.log and
 * stderr.log, and the script writes metrics.jsonl there: the run directory must be on a file
 * system the nodes share, as a cluster's home or project directories are.
 *
 * One task per node (`srun --ntasks-per-node=1`). A command that trains data-parallel runs
 * under torchrun on each node, the nodes meeting at the first node of the allocation
 * (c10d rendezvous, `--rdzv-id=$SLURM_JOB_ID`); one process on one node runs as it is.
 * The script ends with srun's exit status, so a failing trainer fails the job.
 *
 * Stopping: an interrupt signals the job's steps with SIGINT (the trainer saves and exits;
 * a job still pending is cancelled); a kill cancels the job with SIGKILL.
 */
import {spawnSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {excerpt, UserError} from '../errors.js'
import type {LaunchedProcess, LaunchSpec, Launcher, ProcessOutcome} from './launcher.js'
import {jobAlive, jobState, outcomeOf, stopJob, TERMINAL} from './slurm-jobs.js'
import {torchrunArgs} from './torchrun.js'
import {shellWord} from '../shell.js'

export interface SlurmOptions {
  /** The batch script's path (in the run directory). */
  scriptFile: string
  /** The run's name and id, which name the job (`mlx-NAME-ID`, in characters any tool takes). */
  runName: string
  runId: string
  python: string
  nodes: number
  nprocPerNode: number
  maxRestarts: number
  /** Whether the command runs under torchrun (several processes, or several nodes). */
  distributed: boolean
  partition: string | null
  gpusPerNode: number
  cpusPerTask: number | null
  mem: string | null
  time: string | null
  account: string | null
  qos: string | null
  /** More sbatch options, one a line (`--constraint=a100`). */
  extra: readonly string[]
}

/** How often the job's state is read while mlx follows it. */
export const SLURM_POLL_MS = 1_000

/**
 * Why a path cannot be written into an #SBATCH line, or null: sbatch reads a directive up to the
 * line's end and takes double quotes around a value, with no escapes inside them.
 */
export function directivePathProblem(path: string): string | null {
  return /[\p{Cc}"\\]/u.test(path)
    ? `${JSON.stringify(excerpt(path))} holds a quote, a backslash or a control character, which a Slurm batch script cannot hold`
    : null
}

/** A value of an #SBATCH line: bare when plain, else in double quotes; a value a directive cannot hold is refused. */
function directiveValue(value: string): string {
  const problem = directivePathProblem(value)
  if (problem) throw new UserError(problem, 'move the project (or MLX_HOME) to a path without them')
  return /^[\w@+=:,./-]+$/.test(value) ? value : `"${value}"`
}

/** Slurm expands %j, %x... in file names: a literal % is written %%. */
function slurmFileName(path: string): string {
  return directiveValue(path.replaceAll('%', '%%'))
}

/** A job name as squeue shows it: letters, digits and . _ - (anything else becomes _), the run id kept whole at its end. */
export function slurmJobName(runName: string, runId: string): string {
  return `mlx-${runName.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100)}-${runId}`
}

export function batchScript(options: SlurmOptions, spec: LaunchSpec): string {
  const directives = [
    `--job-name=${slurmJobName(options.runName, options.runId)}`,
    `--output=${slurmFileName(spec.stdoutFile)}`,
    `--error=${slurmFileName(spec.stderrFile)}`,
    '--open-mode=append',
    `--chdir=${directiveValue(spec.cwd)}`,
    `--nodes=${options.nodes}`,
    '--ntasks-per-node=1',
    ...(options.partition ? [`--partition=${options.partition}`] : []),
    ...(options.gpusPerNode > 0 ? [`--gpus-per-node=${options.gpusPerNode}`] : []),
    ...(options.cpusPerTask ? [`--cpus-per-task=${options.cpusPerTask}`] : []),
    ...(options.mem ? [`--mem=${options.mem}`] : []),
    ...(options.time ? [`--time=${options.time}`] : []),
    ...(options.account ? [`--account=${options.account}`] : []),
    ...(options.qos ? [`--qos=${options.qos}`] : []),
    ...options.extra,
  ]
  const command = [spec.command, ...spec.args].map(shellWord).join(' ')
  const lines = [
    '#!/bin/bash',
    `# Written by mlx and submitted with sbatch; Slurm runs it on the first node of the allocation.`,
    ...directives.map((directive) => `#SBATCH ${directive}`),
    '',
  ]
  if (!options.distributed) {
    lines.push('# One process: the command as it is.', `srun --kill-on-bad-exit=1 -- ${command}`)
  } else {
    const torchrun = torchrunArgs({
      python: options.python,
      nprocPerNode: options.nprocPerNode,
      nnodes: options.nodes,
      rdzvEndpoint: 'HEAD',
      rdzvId: 'JOB',
      maxRestarts: options.maxRestarts,
    })
    const args = torchrun.map((arg) =>
      arg === 'HEAD' ? '"$head:$port"' : arg === 'JOB' ? '"$SLURM_JOB_ID"' : shellWord(arg),
    )
    lines.push(
      '# torchrun on each node; the nodes meet at the first one, on a port of this job.',
      'head=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
      'port=$((20000 + SLURM_JOB_ID % 20000))',
      `srun --kill-on-bad-exit=1 -- ${shellWord(options.python)} ${args.join(' ')} ${command}`,
    )
  }
  // The job's status is srun's, the trainer's: a failing script fails the job.
  return lines.join('\n') + '\n'
}

export function slurmLauncher(options: SlurmOptions): Launcher {
  return {
    name: 'slurm',
    launch(spec: LaunchSpec): LaunchedProcess {
      writeFileSync(options.scriptFile, batchScript(options, spec))
      const submitted = spawnSync('sbatch', ['--parsable', options.scriptFile], {
        cwd: spec.cwd,
        env: {...process.env, ...spec.env},
        encoding: 'utf8',
      })
      if (submitted.status !== 0) {
        const why =
          (submitted.stderr ?? '').trim() ||
          (submitted.error ? `cannot run sbatch: ${submitted.error.message}` : 'sbatch failed')
        writeFileSync(spec.stderrFile, `sbatch ${options.scriptFile} failed: ${why}\n`, {flag: 'a'})
        const done = Promise.resolve({exitCode: submitted.status ?? 127, signal: null, detail: `sbatch failed: ${why}`})
        return {ref: {pid: null, jobId: null}, done, interrupt() {}, kill() {}, detach() {}}
      }
      // --parsable prints "ID" or "ID;CLUSTER".
      const jobId = submitted.stdout.trim().split(';')[0]!
      const ref = {pid: null, jobId}
      let timer: NodeJS.Timeout | undefined
      let last = ''
      const done = new Promise<ProcessOutcome>((resolve) => {
        const poll = () => {
          const state = jobState(jobId)
          const said = state === null ? '' : `${state.state} ${state.reason ?? ''}`
          if (state && said !== last) spec.onState?.({state: state.state, reason: state.reason})
          last = said
          if (state === null || TERMINAL.has(state.state)) resolve(outcomeOf(jobId, state))
          else timer = setTimeout(poll, SLURM_POLL_MS)
        }
        // The first look comes after launch returns, once the caller knows the job id.
        timer = setTimeout(poll, 0)
      })
      return {
        ref,
        done,
        interrupt: () => stopJob(ref, 'interrupt'),
        kill: () => stopJob(ref, 'kill'),
        detach: () => clearTimeout(timer),
      }
    },
    stop: stopJob,
    alive: jobAlive,
  }
}
