import {MlxCommand} from '../base-command.js'
import type {SweepListing} from '../core/sweep/report.js'

export default class Sweeps extends MlxCommand {
  static override summary =
    'List the sweeps: method, trials done, pruned, failed and running, the best, when it started, how long it took.'
  static override examples = ['<%= config.bin %> sweeps', '<%= config.bin %> sweeps --json']

  async run(): Promise<SweepListing[]> {
    await this.parse(Sweeps)
    const [{withRuns}, {listSweeps, formatValue}, {alignedLines}] = await Promise.all([
      import('../core/store/with-runs.js'),
      import('../core/sweep/report.js'),
      import('../core/report/format.js'),
    ])
    const sweeps = await withRuns(({store}) => listSweeps(store))
    if (this.jsonEnabled()) return sweeps
    if (sweeps.length === 0) {
      this.say('no sweeps yet: `mlx sweep CONFIG` starts one')
      return sweeps
    }
    const rows = sweeps.map((sweep) => [
      sweep.name,
      sweep.method,
      `${sweep.counts.complete + sweep.counts.pruned + sweep.counts.fail}/${sweep.budget}`,
      String(sweep.counts.pruned),
      String(sweep.counts.fail),
      String(sweep.counts.running),
      sweep.best ? `${formatValue(sweep.best.value)} (trial ${sweep.best.trial})` : '-',
      sweep.started === null ? '-' : new Date(sweep.started * 1000).toISOString().slice(0, 16).replace('T', ' '),
      sweep.durationSeconds === null ? '-' : `${Math.round(sweep.durationSeconds)}s`,
    ])
    const headers = ['name', 'method', 'done', 'pruned', 'failed', 'running', 'best', 'started', 'duration']
    for (const line of alignedLines([headers, ...rows])) this.log(line)
    return sweeps
  }
}
