/**
 * `mlx run`: validate -> choose and check Python -> plan the processes (one, or torchrun's)
 * -> create the run (id, directory, resolved config, script, env.json) -> launch -> ingest
 * metrics.jsonl into SQLite as the script writes it -> record the outcome. `mlx resume`
 * relaunches a stopped run from its latest checkpoint through the same launch and follow.
 *
 * The API a caller uses (`mlx run`, `mlx resume`, and whatever starts and follows many runs
 * in one process): prepareRun / prepareResume (plan.ts: nothing created yet), then startRun /
 * resumeRun, each giving a RunHandle (process.ts) to interrupt, detach or await. The other
 * nodes of one torchrun run: join.ts.
 */
import {join} from 'node:path'
import type {Project} from '../project/project.js'
import type {Store} from '../store/store.js'
import {ingestAvailable} from '../store/ingest.js'
import {joinRun} from './join.js'
import {type PreparedResume, type PreparedRun} from './plan.js'
import {type RunHandle, type RunObserver, launchRun} from './process.js'
import {createRun, writeConfigFiles} from './create.js'

export {prepareResume, prepareRun, type PreparedResume, type PreparedRun, type RunOptions} from './plan.js'
export {INTERRUPT_GRACE_MS, type RunHandle, type RunObserver} from './process.js'

export async function startRun(
  project: Project,
  store: Store,
  prepared: PreparedRun,
  observer: RunObserver = {},
): Promise<RunHandle> {
  const {config} = prepared
  if (config.launch.launcher === 'torchrun' && config.launch.node_rank > 0)
    return joinRun(project, store, prepared, observer)
  return launchRun(
    project,
    store,
    createRun(project, store, config, prepared.provenance, prepared.trial ?? null, prepared.kind),
    prepared,
    [],
    observer,
  )
}

export function resumeRun(
  project: Project,
  store: Store,
  prepared: PreparedResume,
  observer: RunObserver = {},
): RunHandle {
  // The stopped attempt's file is complete: a line it left without its newline is counted torn now, before a new writer marks it.
  ingestAvailable(store, prepared.run.id, join(prepared.run.runDir, 'metrics.jsonl'), true)
  store.restartRun(prepared.run.id, prepared.config)
  writeConfigFiles(prepared.run.runDir, prepared.run.id, prepared.config)
  return launchRun(
    project,
    store,
    store.getRun(prepared.run.id)!,
    prepared,
    ['--resume', join(prepared.run.runDir, prepared.checkpoint)],
    observer,
  )
}
