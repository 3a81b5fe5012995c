/**
 * The local launcher: the script runs as a child of mlx in a process group of its own
 * (no shell), its stdout and stderr going straight to files in the run directory. Its
 * own group means a Ctrl-C reaches mlx alone, which forwards it to the whole group
 * (the trainer and its DataLoader workers) and escalates if they do not stop.
 */
import {closeSync, openSync} from 'node:fs'
import {execa} from 'execa'
import type {LaunchedProcess, LaunchSpec, Launcher, ProcessOutcome, StopHow} from './launcher.js'

export const localLauncher: Launcher = {
  name: 'local',
  launch(spec: LaunchSpec): LaunchedProcess {
    const stdout = openSync(spec.stdoutFile, 'a')
    const stderr = openSync(spec.stderrFile, 'a')
    const child = execa(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      extendEnv: true,
      detached: true,
      cleanup: false,
      stdin: 'ignore',
      // execa's types list only descriptors 3-9; any open one is handed to spawn as it is.
      stdout: stdout as 3,
      stderr: stderr as 3,
      reject: false,
      buffer: false,
    })
    // The child holds its own copies of the descriptors now.
    closeSync(stdout)
    closeSync(stderr)
    // With `reject: false` the promise resolves even when the spawn itself fails.
    const done: Promise<ProcessOutcome> = child.then((result) => ({exitCode: result.exitCode ?? null, signal: result.signal ?? null}))
    if (child.pid === undefined) {
      // The spawn failed (no such interpreter); `done` carries the failure.
      return {pid: -1, done, interrupt() {}, kill() {}}
    }
    const pid = child.pid
    return {pid, done, interrupt: () => localLauncher.stop(pid, 'interrupt'), kill: () => localLauncher.stop(pid, 'kill')}
  },
  stop(pid: number, how: StopHow) {
    signalGroup(pid, how === 'interrupt' ? 'SIGINT' : 'SIGKILL')
  },
}

/** Signals the process group that `pid` leads; a group already gone is no error. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // The group is already gone.
  }
}
