import {MlxCommand} from '../../base-command.js'

export interface RebuildResult {
  store: string
  movedTo: string | null
  indexed: string[]
  skipped: Array<{id: string; problem: string}>
}

export default class StoreRebuild extends MlxCommand {
  static override summary = "Rebuild the store's index (mlx.db) from the run directories, moving the old one aside."
  static override description = `The run directories are the source of truth: each run's run.json, config.json and metrics.jsonl hold everything the index does. Use this when the index is damaged (mlx says so and names it); a missing or emptied index is rebuilt without asking. The old index is kept beside the new one, renamed mlx.db.<time>.old.`
  static override examples = ['<%= config.bin %> store rebuild']

  async run(): Promise<RebuildResult> {
    await this.parse(StoreRebuild)
    const [{openProject}, {rebuildStore}, {relative}] = await Promise.all([
      import('../../core/project/project.js'),
      import('../../core/store/open.js'),
      import('node:path'),
    ])
    const project = await openProject(process.cwd())
    const {store, report} = await rebuildStore(project.storeDir)
    const shown = (path: string) => relative(process.cwd(), path) || path
    try {
      if (report.movedTo) this.say(`moved the old index aside: ${shown(report.movedTo)}`)
      this.say(
        `indexed ${report.indexed.length} run${report.indexed.length === 1 ? '' : 's'} from ${shown(store.runDir(''))}`,
      )
      for (const skipped of report.skipped) this.say(`  skipped ${skipped.id}: ${skipped.problem}`)
      const running = report.indexed.filter((id) => store.getRun(id)?.status === 'running')
      if (running.length > 0)
        this.say(`  still running: ${running.join(', ')} (followed from their files by the next command)`)
      return {store: store.dir, ...report}
    } finally {
      store.close()
    }
  }
}
