/**
 * One interface for every launcher (local, torchrun, Slurm): what to run, where, how to
 * stop it, how to learn its fate. Every launcher passes the same contract tests
 * (test/helpers/launcher-contract.ts: local and torchrun in test/unit, Slurm against a real
 * cluster in test/slurm).
 */

export type LauncherName = 'local' | 'torchrun' | 'slurm'

/** Where a scheduler has a job: its state (PENDING, RUNNING...) and why it waits. */
export interface JobState {
  state: string
  reason: string | null
}

export interface LaunchSpec {
  command: string
  args: string[]
  cwd: string
  /** Added to the inherited environment. */
  env: Record<string, string>
  stdoutFile: string
  stderrFile: string
  /** A scheduler's launcher reports each change of the job's state here. */
  onState?(state: JobState): void
}

export interface ProcessOutcome {
  /** The exit code, or null when a signal ended the process. */
  exitCode: number | null
  signal: string | null
  /** What a scheduler said of the job's end (job 12 CANCELLED), where there is one. */
  detail?: string
  /** When a scheduler says the job ended (seconds since the epoch), where it says so. */
  endedAt?: number
}

/** What identifies a launched process to stop or watch it later, from another mlx: its pid, or a scheduler's job id. */
export interface ProcessRef {
  pid: number | null
  jobId: string | null
}

export interface LaunchedProcess {
  readonly ref: ProcessRef
  /** Resolves once the process (and its process group's leader) has ended; never rejects. */
  readonly done: Promise<ProcessOutcome>
  /** Asks the process and its children to stop (SIGINT, as Ctrl-C would): it may save and exit. */
  interrupt(): void
  /** Ends the process and its children at once (SIGKILL). */
  kill(): void
  /** Lets mlx exit while the process goes on (mlx run --detach); `done` may then never resolve. */
  detach(): void
}

/** interrupt: SIGINT, as Ctrl-C would (the trainer saves and exits); kill: SIGKILL to the whole tree. */
export type StopHow = 'interrupt' | 'kill'

/** Stopping and watching a process that this launcher started, knowing only its ref (mlx stop, reconciling runs). */
export interface LaunchControl {
  stop(ref: ProcessRef, how: StopHow): void
  /** Whether it still runs (or, for a scheduler, waits to run). */
  alive(ref: ProcessRef): boolean
}

export interface Launcher extends LaunchControl {
  readonly name: LauncherName
  launch(spec: LaunchSpec): LaunchedProcess
}
