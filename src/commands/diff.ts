import {Args} from '@oclif/core'
import type {RunDiff} from '../core/compare.js'
import {formatNumber, formatParam} from '../core/numbers.js'
import {MlxCommand} from './base.js'
import {withRuns} from './open.js'

export default class Diff extends MlxCommand {
  static override summary = "Two runs side by side: the config values that differ, and each metric's best and last with the change."
  static override examples = ['<%= config.bin %> diff 3fa9 b71c']
  static override args = {
    a: Args.string({description: 'first run (id, id prefix or name)', required: true}),
    b: Args.string({description: 'second run', required: true}),
  }

  async run(): Promise<RunDiff> {
    const {args} = await this.parse(Diff)
    const {diffRuns} = await import('../core/compare.js')
    const diff = await withRuns(({store}) => {
      const [a, b] = [store.resolveRun(args.a), store.resolveRun(args.b)]
      const summaries = store.summaries([a.id, b.id])
      return diffRuns(a, summaries.get(a.id) ?? [], b, summaries.get(b.id) ?? [])
    })
    if (!this.jsonEnabled()) this.log(describe(diff))
    return diff
  }
}

function describe(diff: RunDiff): string {
  const rows: string[][] = [['', `${diff.a.id} (${diff.a.name})`, `${diff.b.id} (${diff.b.name})`, 'change']]
  for (const param of diff.params) rows.push([param.key, formatParam(param.a), formatParam(param.b), ''])
  if (diff.params.length === 0) rows.push(['(the configs are the same)', '', '', ''])
  for (const metric of diff.metrics) {
    const change = metric.a === null || metric.b === null ? '' : `${metric.b - metric.a >= 0 ? '+' : ''}${formatNumber(metric.b - metric.a)}${metric.better ? ` (${metric.better} better)` : ''}`
    rows.push([`${metric.key} ${metric.aggregate}`, formatNumber(metric.a), formatNumber(metric.b), change])
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => [...row[column]!].length)))
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n')
}
