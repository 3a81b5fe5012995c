/**
 * A torchrun run over several nodes is one run: node 0's. `mlx run` on another node
 * (`launch.node_rank` > 0) waits for node 0 to create it in the shared store, then starts its
 * own share of the processes on that run's script and directory; only node 0 ingests.
 */
import {mkdirSync} from 'node:fs'
import {join, relative} from 'node:path'
import type {ExperimentConfig} from '../config/schema.js'
import {UserError} from '../errors.js'
import type {LaunchedProcess, ProcessOutcome} from '../launch/launcher.js'
import {initialProgress} from '../metrics/progress.js'
import type {Project} from '../project/project.js'
import type {RunRecord, Store} from '../store/store.js'
import {errorText, statusOf} from './outcome.js'
import {type PreparedLaunch} from './plan.js'
import {
  POLL_MS,
  type RunHandle,
  type RunObserver,
  escalatingStop,
  launcherFor,
  sleep,
  trainerCommand,
  trainerEnv,
} from './process.js'

/**
 * How long a node other than 0 waits for node 0 to create the run it joins, and, at its end,
 * for node 0 to record the outcome: MLX_JOIN_WAIT_SECONDS, else two minutes.
 */
export function joinWaitMs(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env.MLX_JOIN_WAIT_SECONDS)
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 120_000
}

/**
 * Node K > 0 of a torchrun run over several nodes: waits for node 0's mlx to create the run
 * (same name and rendezvous endpoint, in the store these nodes share), then starts this
 * node's processes on its script and directory, its output in `node<K>/`. Node 0's mlx
 * ingests the metrics (rank 0 writes them, on whichever node it is) and records the outcome.
 */
export async function joinRun(
  project: Project,
  store: Store,
  prepared: PreparedLaunch,
  observer: RunObserver,
): Promise<RunHandle> {
  const {config, python} = prepared
  const head = await waitForHeadRun(store, config)
  const nodeDir = join(head.runDir, `node${config.launch.node_rank}`)
  mkdirSync(nodeDir, {recursive: true})
  const child = launcherFor(prepared, head).launch({
    ...trainerCommand(head.runDir, config, python, []),
    cwd: project.root,
    env: trainerEnv(head, config),
    stdoutFile: join(nodeDir, 'stdout.log'),
    stderrFile: join(nodeDir, 'stderr.log'),
  })
  observer.onStart?.(head, python)
  const stopper = escalatingStop(child)
  const done = outlive(store, head.id, child).then(async (outcome) => {
    stopper.cancel()
    observer.onEnd?.(initialProgress(), head)
    const until = Date.now() + joinWaitMs()
    let record = store.getRun(head.id) ?? head
    while (record.status === 'running' && Date.now() < until) {
      await sleep(POLL_MS)
      record = store.getRun(head.id) ?? head
    }
    // Node 0 records the outcome; should it be gone, this node's own is all there is to say.
    if (record.status !== 'running') return record
    const status = statusOf(outcome, stopper.interrupted(), false)
    return {
      ...record,
      status,
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      error: status === 'completed' ? null : errorText(nodeDir, outcome, status),
    }
  })
  return {
    run: head,
    interrupt: stopper.interrupt,
    detach: child.detach,
    done,
    ended: () => ({store, indexProblem: null}),
  }
}

/** How long this node's torchrun may go on once node 0 has recorded the run's end. */
export const JOIN_LINGER_MS = 20_000

/**
 * This node's processes, ended: when node 0 has recorded the run's end and they linger on
 * (torchrun's agent on this node can hang in its own shutdown once node 0's agent, which
 * held the rendezvous store, has gone), they are stopped; the run is done.
 */
export async function outlive(store: Store, headId: string, child: LaunchedProcess): Promise<ProcessOutcome> {
  let exited: ProcessOutcome | undefined
  void child.done.then((outcome) => {
    exited = outcome
  })
  let headEnded: number | undefined
  while (exited === undefined) {
    await Promise.race([child.done, sleep(POLL_MS)])
    if (exited !== undefined) break
    if (headEnded === undefined && store.getRun(headId)?.status !== 'running') headEnded = Date.now()
    if (headEnded !== undefined && Date.now() - headEnded > JOIN_LINGER_MS) {
      child.kill()
      return {...(await child.done), detail: 'stopped after node 0 had recorded the end of the run'}
    }
  }
  return exited
}

export async function waitForHeadRun(store: Store, config: ExperimentConfig): Promise<RunRecord> {
  const {launch} = config
  const wait = joinWaitMs()
  const since = Date.now() / 1000 - wait / 1000
  const until = Date.now() + wait
  for (;;) {
    const head = store.listRuns({status: ['running'], name: config.name, since}).find((run) => {
      const headLaunch = (run.config as Partial<ExperimentConfig>).launch
      return (
        headLaunch?.launcher === 'torchrun' &&
        headLaunch.node_rank === 0 &&
        headLaunch.nnodes === launch.nnodes &&
        headLaunch.rdzv_endpoint === launch.rdzv_endpoint
      )
    })
    if (head) return head
    if (Date.now() > until) {
      throw new UserError(
        `node ${launch.node_rank}: no run ${JSON.stringify(config.name)} of node 0 on rendezvous ${launch.rdzv_endpoint} appeared in ${relative(process.cwd(), store.runDir('')) || '.mlx/runs'} within ${wait / 1000} s`,
        'start the same mlx run on node 0 (launch.node_rank: 0) first; every node must share the project directory (MLX_HOME on a shared file system)',
      )
    }
    await sleep(POLL_MS)
  }
}
