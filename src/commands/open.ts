/** Opening the project's store for a command, with runs whose follower went away caught up first. */
import type {Project} from '../core/project.js'
import type {Store} from '../core/store/store.js'

export async function openRuns(): Promise<{project: Project; store: Store}> {
  const [{openProject}, {openStore}, {reconcileRuns}] = await Promise.all([import('../core/project.js'), import('../core/store/store.js'), import('../core/run/reconcile.js')])
  const project = await openProject(process.cwd())
  const store = await openStore(project.storeDir)
  reconcileRuns(store)
  return {project, store}
}

/** Runs `work` with the store open, and closes it whatever happens. */
export async function withRuns<T>(work: (opened: {project: Project; store: Store}) => T | Promise<T>): Promise<T> {
  const opened = await openRuns()
  try {
    return await work(opened)
  } finally {
    opened.store.close()
  }
}
