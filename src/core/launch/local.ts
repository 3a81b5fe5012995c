/**
 * The local launcher: the script runs as a child of mlx in a process group of its own
 * (no shell), its stdout and stderr going straight to files in the run directory. Its
 * own group means a Ctrl-C reaches mlx alone, which forwards it to the whole group
 * (the trainer and its DataLoader workers) and escalates if they do not stop.
 *
 * Node's own spawn, not execa: loading execa would delay every `mlx run`'s trainer
 * (bench/startup.mjs measures that start), and this needs none of what execa adds (the output goes to files).
 */
import {spawn} from 'node:child_process'
import {closeSync, openSync} from 'node:fs'
import type {LaunchedProcess, LaunchSpec, Launcher, ProcessOutcome} from './launcher.js'
import {groupAlive, stopGroup} from './processes.js'

export const localLauncher: Launcher = {
  name: 'local',
  launch(spec: LaunchSpec): LaunchedProcess {
    const stdout = openSync(spec.stdoutFile, 'a')
    const stderr = openSync(spec.stderrFile, 'a')
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: {...process.env, ...spec.env},
      detached: true,
      stdio: ['ignore', stdout, stderr],
    })
    // The child holds its own copies of the descriptors now.
    closeSync(stdout)
    closeSync(stderr)
    const done = new Promise<ProcessOutcome>((resolve) => {
      // A spawn that fails (no such interpreter) reports 'error' and no 'exit': 127, as a shell says it.
      child.once('error', (error: NodeJS.ErrnoException) =>
        resolve({exitCode: error.code === 'ENOENT' ? 127 : 126, signal: null, detail: error.message}),
      )
      child.once('exit', (code, signal) => resolve({exitCode: code, signal}))
    })
    if (child.pid === undefined) return {ref: {pid: null, jobId: null}, done, interrupt() {}, kill() {}, detach() {}}
    const ref = {pid: child.pid, jobId: null}
    return {
      ref,
      done,
      interrupt: () => localLauncher.stop(ref, 'interrupt'),
      kill: () => localLauncher.stop(ref, 'kill'),
      detach: () => child.unref(),
    }
  },
  stop: stopGroup,
  alive: groupAlive,
}
