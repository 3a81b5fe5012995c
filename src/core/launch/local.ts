/**
 * The local launcher: the script runs as a child of mlx in a process group of its own
 * (no shell), its stdout and stderr going straight to files in the run directory. Its
 * own group means a Ctrl-C reaches mlx alone, which forwards it to the whole group
 * (the trainer and its DataLoader workers) and escalates if they do not stop.
 */
import {closeSync, openSync} from 'node:fs'
import {execa} from 'execa'
import type {LaunchedProcess, LaunchSpec, Launcher, ProcessOutcome} from './launcher.js'
import {groupAlive, stopGroup} from './processes.js'

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
      return {ref: {pid: null, jobId: null}, done, interrupt() {}, kill() {}, detach() {}}
    }
    const ref = {pid: child.pid, jobId: null}
    return {ref, done, interrupt: () => localLauncher.stop(ref, 'interrupt'), kill: () => localLauncher.stop(ref, 'kill'), detach: () => child.unref()}
  },
  stop: stopGroup,
  alive: groupAlive,
}
