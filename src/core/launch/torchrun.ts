/**
 * The torchrun launcher: torch.distributed.run (torchrun) from the run's own Python starts
 * `nproc_per_node` copies of the command on this node and joins them with the other nodes'
 * through a c10d rendezvous; it restarts every worker of the node up to `max_restarts`
 * times after a failure. torchrun itself runs under the local launcher, in a process
 * group of its own: an interrupt reaches torchrun and every worker at once (each saves
 * its checkpoint), a kill ends them all.
 *
 * One node (`nnodes: 1`) needs no endpoint: `--standalone` rendezvouses on a free port of
 * this machine, so runs side by side never collide. Several nodes meet at `rdzv_endpoint`,
 * with the run's id as the rendezvous id.
 *
 * torchrun starts each worker in a session of its own and forwards a SIGINT to them; a
 * SIGKILL of torchrun would leave them running, so `kill` ends each worker's process
 * group (the worker and its DataLoader processes) first.
 *
 * torchrun exits 1 whenever a worker fails; the worker's own exit status (2 for bad
 * data, 130 for an interrupt) is what the run's outcome needs, so it is read from the
 * failure report torchrun prints ("Root Cause ... exitcode : N"), and an interrupt from
 * the signal torchrun reports it got.
 */
import {readFileSync} from 'node:fs'
import {constants} from 'node:os'
import type {LaunchedProcess, LaunchSpec, Launcher, ProcessOutcome} from './launcher.js'
import {localLauncher} from './local.js'
import {groupAlive, stopTorchrunTree} from './processes.js'

export interface TorchrunOptions {
  /** The Python whose torch provides torchrun. */
  python: string
  nprocPerNode: number
  nnodes: number
  /** host:port of the rendezvous (null: one node, a free local port). */
  rdzvEndpoint: string | null
  /** Shared by every node of one run (the run id). */
  rdzvId: string
  maxRestarts: number
}

export function torchrunArgs(options: TorchrunOptions): string[] {
  const where =
    options.nnodes === 1 && options.rdzvEndpoint === null
      ? ['--standalone']
      : ['--rdzv-backend', 'c10d', '--rdzv-endpoint', options.rdzvEndpoint ?? '', '--rdzv-id', options.rdzvId]
  return [
    '-m',
    'torch.distributed.run',
    '--nnodes',
    String(options.nnodes),
    '--nproc-per-node',
    String(options.nprocPerNode),
    ...where,
    '--max-restarts',
    String(options.maxRestarts),
    // The command is an executable (the run's Python), not a script for torchrun's own interpreter.
    '--no-python',
  ]
}

export function torchrunLauncher(options: TorchrunOptions): Launcher {
  return {
    name: 'torchrun',
    launch(spec: LaunchSpec): LaunchedProcess {
      const agent = localLauncher.launch({
        ...spec,
        command: options.python,
        args: [...torchrunArgs(options), spec.command, ...spec.args],
      })
      const done = agent.done.then((outcome) =>
        outcome.exitCode === 1 ? (workerOutcome(spec.stderrFile) ?? outcome) : outcome,
      )
      return {...agent, done, kill: () => stopTorchrunTree(agent.ref, 'kill')}
    },
    stop: stopTorchrunTree,
    alive: groupAlive,
  }
}

/**
 * How the workers ended, from torchrun's report in its stderr: the first failed worker's
 * exit ("Root Cause ... exitcode : N", a negative N being a signal), or the signal that
 * made torchrun stop them all; undefined when it reports neither.
 */
export function workerOutcome(stderrFile: string): ProcessOutcome | undefined {
  let text: string
  try {
    text = readFileSync(stderrFile, 'utf8')
  } catch {
    return undefined
  }
  const report = text.lastIndexOf('Root Cause (first observed failure)')
  const code = report < 0 ? null : /exitcode\s*:\s*(-?\d+)/.exec(text.slice(report))
  if (code && Number(code[1]) >= 0) return {exitCode: Number(code[1]), signal: null}
  if (code) return {exitCode: null, signal: signalName(-Number(code[1]))}
  const stopped = [...text.matchAll(/SignalException: Process \d+ got signal: (\d+)/g)].at(-1)
  return stopped ? {exitCode: null, signal: signalName(Number(stopped[1]))} : undefined
}

function signalName(number: number): string {
  return Object.entries(constants.signals).find(([, value]) => value === number)?.[0] ?? `signal ${number}`
}
