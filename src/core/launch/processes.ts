/**
 * Processes of this machine, as /proc shows them (Linux; elsewhere the signal check is all
 * there is), and stopping them by pid. Light on purpose: every command that lists runs
 * loads this to catch up with runs nobody follows.
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import type {ProcessRef, StopHow} from './launcher.js'

/** Signals the process group that `pid` leads; a group already gone is no error. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // The group is already gone.
  }
}

/** A local process group: SIGINT (it may save and exit) or SIGKILL. */
export function stopGroup(ref: ProcessRef, how: StopHow): void {
  if (ref.pid !== null) signalGroup(ref.pid, how === 'interrupt' ? 'SIGINT' : 'SIGKILL')
}

/**
 * torchrun and its workers: an interrupt goes to torchrun, which forwards it to each worker;
 * torchrun starts each worker in a session of its own, so a kill ends each worker's group
 * (the worker and its DataLoader processes), then torchrun's.
 */
export function stopTorchrunTree(ref: ProcessRef, how: StopHow): void {
  if (how === 'kill' && ref.pid !== null) for (const worker of childrenOf(ref.pid)) signalGroup(worker, 'SIGKILL')
  stopGroup(ref, how)
}

export function groupAlive(ref: ProcessRef): boolean {
  return ref.pid !== null && processAlive(ref.pid)
}

/** Whether a process runs. A zombie (ended, never reaped: its parent mlx was killed) does not. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch (error) {
    // Without /proc (not Linux) the signal check is all there is; a vanished entry means it just ended.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync('/proc/self')
  }
}

/** The processes whose parent is `pid` (from /proc; elsewhere none are found). */
export function childrenOf(pid: number): number[] {
  let entries: string[]
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    return []
  }
  return entries.flatMap((entry) => {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // Fields after the command (which may hold spaces and parentheses): state, then the parent's pid.
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid ? [Number(entry)] : []
    } catch {
      return []
    }
  })
}
