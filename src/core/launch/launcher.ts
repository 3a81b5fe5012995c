/**
 * One interface for every launcher (local, torchrun; Slurm later): what to run,
 * where, how to stop it, how to learn its fate. Every launcher passes the same contract
 * tests (test/unit/launcher-contract.test.ts).
 */

export type LauncherName = 'local' | 'torchrun'

export interface LaunchSpec {
  command: string
  args: string[]
  cwd: string
  /** Added to the inherited environment. */
  env: Record<string, string>
  stdoutFile: string
  stderrFile: string
}

export interface ProcessOutcome {
  /** The exit code, or null when a signal ended the process. */
  exitCode: number | null
  signal: string | null
}

export interface LaunchedProcess {
  readonly pid: number
  /** Resolves once the process (and its process group's leader) has ended; never rejects. */
  readonly done: Promise<ProcessOutcome>
  /** Asks the process and its children to stop (SIGINT, as Ctrl-C would): it may save and exit. */
  interrupt(): void
  /** Ends the process and its children at once (SIGKILL). */
  kill(): void
}

/** interrupt: SIGINT, as Ctrl-C would (the trainer saves and exits); kill: SIGKILL to the whole tree. */
export type StopHow = 'interrupt' | 'kill'

export interface Launcher {
  readonly name: LauncherName
  launch(spec: LaunchSpec): LaunchedProcess
  /** Stops a process this launcher started, knowing only its pid (mlx stop, from another mlx). */
  stop(pid: number, how: StopHow): void
}
