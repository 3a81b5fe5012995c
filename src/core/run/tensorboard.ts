/**
 * `mlx tensorboard`: TensorBoard over the runs by their names. A run's event files live in its
 * directory (`.mlx/runs/<id>`), which TensorBoard would name by the id; this keeps a tree of
 * links, `.mlx/tensorboard/<name>-<id>` -> `../runs/<id>` (TensorBoard follows links, and
 * recommends such a tree for naming runs), made again at each call for the runs asked for.
 */
import {lstatSync, mkdirSync, readdirSync, symlinkSync, unlinkSync} from 'node:fs'
import {join} from 'node:path'
import type {RunRecord} from '../store/store.js'

export const TENSORBOARD_DIR = 'tensorboard'

export interface TensorBoardLinks {
  /** The folder to hand TensorBoard as --logdir. */
  logdir: string
  runs: Array<{id: string; name: string; link: string}>
}

/** A run's folder name in the tree: its name (characters a path takes anywhere), a dash, its id. */
export function linkName(run: Pick<RunRecord, 'id' | 'name'>): string {
  const name = run.name
    .replace(/[^\w.+=@-]+/g, '_')
    .replace(/^[.-]+/, '_')
    .slice(0, 100)
  return `${name}-${run.id}`
}

/** The tree of links under `storeDir` for `runs`: links of runs not asked for (or since removed) go. */
export function linkRuns(storeDir: string, runs: readonly RunRecord[]): TensorBoardLinks {
  const logdir = join(storeDir, TENSORBOARD_DIR)
  mkdirSync(logdir, {recursive: true})
  for (const entry of readdirSync(logdir)) {
    const path = join(logdir, entry)
    // Only links are mlx's: anything else a user put there stays.
    if (lstatSync(path).isSymbolicLink()) unlinkSync(path)
  }
  return {
    logdir,
    runs: runs.map((run) => {
      const link = join(logdir, linkName(run))
      symlinkSync(join('..', 'runs', run.id), link, 'dir')
      return {id: run.id, name: run.name, link}
    }),
  }
}
