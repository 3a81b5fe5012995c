/** The comparison table at 160, 80 and 60 columns: what tells runs apart is never cut, the winner is always said. */
import {describe, expect, it} from 'vitest'
import {compareRuns} from '../../src/core/report/compare.js'
import {comparisonLegend, comparisonTable, displayWidth, fitTable} from '../../src/core/report/format.js'
import type {RunRecord} from '../../src/core/store/store.js'
import {runRecord, summaryOf} from '../helpers/records.js'
import {CompareTable} from '../../src/ui/components/CompareTable.js'
import {tableText} from '../../src/ui/print.js'
import {renderAtWidth} from '../helpers/ink.js'

const lrs = [0.01, 0.001, 0.0001, 0.00001]

function record(index: number): RunRecord {
  const lr = lrs[index]!
  return runRecord({
    id: `${'abcd'[index]!.repeat(4)}00000${index}`,
    name: `lr-${lr}`,
    createdAt: 1000 + index,
    endedAt: 1010 + index * 7,
    config: {
      name: `lr-${lr}`,
      task: 'image-classification',
      optim: {name: 'adam', lr, weight_decay: index / 100},
      model: {dropout: index / 10, channels: [32, 64 * (index + 1)]},
      data: {batch_size: 32 * (index + 1)},
    },
  })
}

const summary = summaryOf

const runs = lrs.map((_, index) => record(index))
const summaries = new Map(
  runs.map((run, index) => {
    const acc = [0.5, 0.8 + index / 100, index === 2 ? 0.93 : 0.85]
    return [
      run.id,
      [
        summary('val/acc', acc),
        summary(
          'val/loss',
          acc.map((a) => 1 - a),
        ),
        summary(
          'train/loss',
          acc.map((a) => 1.2 - a),
        ),
        summary(
          'val/f1',
          acc.map((a) => a - 0.05),
        ),
      ],
    ]
  }),
)
const comparison = compareRuns(runs, summaries)
const table = comparisonTable(comparison, 4)
const legend = comparisonLegend(comparison, 'differing', 4)

describe.each([160, 80, 60])('the comparison table at %i columns', (columns) => {
  const printed = tableText(table, legend, {columns, colour: false}).trimEnd().split('\n')
  const rows = printed.slice(1, 5)

  it('prints what the ink table draws, every line within the width', () => {
    const drawn = renderAtWidth(
      <CompareTable table={fitTable(table, columns)} legend={legend} width={columns} />,
      columns,
    )
    expect(printed.join('\n')).toBe(drawn.trimEnd())
    for (const line of printed) expect(displayWidth(line), line).toBeLessThanOrEqual(columns)
  })

  it('keeps every run id and name whole, the primary metric right after them, its best marked', () => {
    expect(printed[0]).toMatch(/^run +name +(val\/acc last +)?val\/acc best/)
    runs.forEach((run, at) =>
      expect(rows[at]).toMatch(new RegExp(`^${run.id.slice(0, 4)}  ${run.name.replace('.', '\\.')} `)),
    )
    expect(rows[2]).toMatch(/0\.93\*/)
    expect(rows.filter((row) => row.includes('*'))).toHaveLength(1)
  })

  it('says who won and which columns it left out', () => {
    expect(printed.join(' ')).toContain('best val/acc: lr-0.0001 (cccc), 0.93 at step 3')
    if (columns < 160) {
      expect(printed.join(' ')).toMatch(/not shown, too narrow: .*status.*\(choose with --metric and --params/)
      expect(printed[0]).not.toContain('status')
    }
  })

  it('shows param headers as short suffixes, with their full keys in the legend', () => {
    expect(printed[0]).toMatch(/ batch_size /)
    expect(printed[0]).not.toMatch(/data\.|…/)
    expect(printed.join(' ')).toContain(
      'params that differ: data.batch_size, model.channels, model.dropout, optim.lr, optim.weight_decay',
    )
  })
})

it('a name longer than what is left still keeps what tells it apart', () => {
  const long = runs.map((run) => ({...run, name: `a-very-long-experiment-prefix-${run.name}`}))
  const fitted = fitTable(comparisonTable(compareRuns(long, summaries), 4), 60)
  const names = fitted.rows.map((row) => row[1]!.text)
  expect(new Set(names.map((name) => name.replace(/…$/, ''))).size).toBe(4)
  expect(names[0]).toBe('a-very-long-experiment-prefix-lr-0.01')
})
