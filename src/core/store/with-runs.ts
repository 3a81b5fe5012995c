/**
 * Opening the project's store for a command: runs the index lacked indexed from their
 * directories (and said so), runs whose follower went away caught up, SQLite's failures turned
 * into errors that name the index and say what to do.
 */
import type {Project} from '../project/project.js'
import type {StoreAccess} from './open.js'
import type {Store} from './store.js'

async function openRuns(access: StoreAccess = 'read'): Promise<{project: Project; store: Store}> {
  const [{openProject}, {guarded, INDEX_FILE, openStoreReporting}, {reconcileRuns}, {relative, join}] =
    await Promise.all([
      import('../project/project.js'),
      import('./open.js'),
      import('../run/reconcile.js'),
      import('node:path'),
    ])
  const project = await openProject(process.cwd())
  const {store, indexed} = await openStoreReporting(project.storeDir, access)
  const say = (line: string) => process.stderr.write(line + '\n')
  store.notice = say
  const where = relative(process.cwd(), store.dir) || store.dir
  if (indexed.indexed.length > 0)
    say(
      `mlx: the index lacked ${indexed.indexed.length} run${indexed.indexed.length === 1 ? '' : 's'} found in ${join(where, 'runs')}: indexed from ${indexed.indexed.length === 1 ? 'its' : 'their'} run.json, config.json and metrics.jsonl`,
    )
  if (store.readOnly !== null)
    say(`mlx: the store ${where} is read-only (${store.readOnly}): shown as it is, from a copy of its index in memory`)
  guarded(join(store.dir, INDEX_FILE), () => reconcileRuns(store))
  return {project, store}
}

/** Runs `work` with the store open (for reading, or `write`), and closes it whatever happens. */
export async function withRuns<T>(
  work: (opened: {project: Project; store: Store}) => T | Promise<T>,
  access: StoreAccess = 'read',
): Promise<T> {
  const opened = await openRuns(access)
  const [{storeFailure, INDEX_FILE}, {join}] = await Promise.all([import('./open.js'), import('node:path')])
  try {
    return await work(opened)
  } catch (error) {
    throw storeFailure(error, join(opened.store.dir, INDEX_FILE))
  } finally {
    opened.store.close()
  }
}
