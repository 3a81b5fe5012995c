import {describe, expect, it} from 'vitest'
import {compareRuns, flattenParams, uniquePrefixLength} from '../../src/core/report/compare.js'
import {runReport} from '../../src/core/report/run-report.js'
import {
  comparisonCsv,
  comparisonLegend,
  comparisonMarkdown,
  comparisonTable,
  distinguishingWidth,
  paramHeaders,
  alignedLines,
} from '../../src/core/report/format.js'
import {formatDuration, formatNumber} from '../../src/core/report/numbers.js'
import type {RunRecord} from '../../src/core/store/store.js'
import {runRecord, summaryOf} from '../helpers/records.js'

function run(id: string, lr: number, extra: Partial<RunRecord> = {}): RunRecord {
  const config = {
    name: `lr-${lr}`,
    task: 'image-classification',
    optim: {lr, name: 'adam'},
    model: {channels: [32, 64]},
  }
  return runRecord({id, name: `lr-${lr}`, config, ...extra})
}

const summary = summaryOf

const runs = [run('a1', 0.1), run('b2', 0.01), run('c3', 0.001, {status: 'failed'})]
const summaries = new Map([
  ['a1', [summary('val/acc', [0.5, 0.9, 0.8]), summary('val/loss', [1, 0.3, 0.4]), summary('lr', [0.1])]],
  ['b2', [summary('val/acc', [0.6, 0.95]), summary('val/loss', [0.9, 0.35])]],
  ['c3', [summary('val/acc', [0.2])]],
])

describe('compareRuns', () => {
  it('flattens params, without the name and task', () => {
    expect(flattenParams(runs[0]!.config)).toEqual({'optim.lr': 0.1, 'optim.name': 'adam', 'model.channels': [32, 64]})
  })

  it('shows no params for a single run: none differ', () => {
    expect(compareRuns(runs.slice(0, 1), summaries).differingParams).toEqual([])
  })

  it('keeps the params that differ and marks the best run per metric, by direction', () => {
    const comparison = compareRuns(runs, summaries)
    expect(comparison.differingParams).toEqual(['optim.lr'])
    expect(comparison.metrics).toEqual([
      {key: 'val/acc', goal: 'max', bestRunIds: ['b2']},
      {key: 'val/loss', goal: 'min', bestRunIds: ['a1']},
    ])
    expect(comparison.runs[0]!.metrics['val/acc']).toEqual({
      last: 0.8,
      best: 0.9,
      min: 0.5,
      max: 0.9,
      bestStep: 2,
      count: 3,
    })
    expect(comparison.runs[2]!.metrics['val/loss']).toBeUndefined()
  })

  it('shows the metrics asked for, with no best for a metric of unknown direction', () => {
    const comparison = compareRuns(runs, summaries, ['lr', 'val/loss'])
    expect(comparison.metrics.map((m) => [m.key, m.goal, m.bestRunIds])).toEqual([
      ['lr', null, []],
      ['val/loss', 'min', ['a1']],
    ])
    expect(comparison.runs[0]!.metrics.lr).toMatchObject({last: 0.1, best: null})
  })

  it('marks every run that ties for best', () => {
    const tied = new Map([
      ['a1', [summary('val/acc', [0.9])]],
      ['b2', [summary('val/acc', [0.9])]],
    ])
    expect(compareRuns(runs.slice(0, 2), tied).metrics[0]!.bestRunIds).toEqual(['a1', 'b2'])
  })

  it('builds the run report of one run', () => {
    expect(runReport(runs[0]!, summaries.get('a1')!)).toMatchObject({
      id: 'a1',
      durationSeconds: 10,
      primary: {key: 'val/acc', goal: 'max', last: 0.8, best: 0.9, bestStep: 2},
      params: {'optim.lr': 0.1},
      metrics: {lr: {best: null}},
    })
  })
})

describe('formats', () => {
  const comparison = compareRuns(runs, summaries)

  it('formats numbers and durations compactly', () => {
    expect([
      formatNumber(0.95123456),
      formatNumber(12),
      formatNumber(0.0000123),
      formatNumber(null),
      formatNumber(NaN),
      formatNumber(-Infinity),
    ]).toEqual(['0.9512', '12', '1.23e-5', '–', 'NaN', '-inf'])
    expect([formatDuration(5.25), formatDuration(125), formatDuration(7300), formatDuration(null)]).toEqual([
      '5.3s',
      '2m05s',
      '2h01m',
      '–',
    ])
  })

  it('lays out the table: run, name, the judged metric, short param headers, other metrics, status, duration', () => {
    const table = comparisonTable(comparison)
    expect(table.headers).toEqual([
      'run',
      'name',
      'val/acc last',
      'val/acc best',
      'lr',
      'val/loss last',
      'val/loss best',
      'status',
      'duration',
    ])
    expect(table.rows[1]!.map((cell) => cell.text)).toEqual([
      'b2',
      'lr-0.01',
      '0.95',
      '0.95',
      '0.01',
      '0.35',
      '0.35',
      'completed',
      '10.0s',
    ])
    expect(table.rows.map((row) => row.filter((cell) => cell.best).map((cell) => cell.text))).toEqual([
      ['0.3'],
      ['0.95'],
      [],
    ])
    // Never left out: run, name, the judged metric's best; status differs (rank 2), the durations are equal (rank 0).
    expect(table.dropRank).toEqual([undefined, undefined, 5, undefined, 6, 3, 4, 2, 0])
    expect(table.descendingFirst).toEqual([false, false, true, true, false, false, false, false, false])
  })

  it('names the winner on the primary metric and breaks a tie by the stated rule', () => {
    expect(comparison.judged).toBe('val/acc')
    expect(comparison.winner).toMatchObject({id: 'b2', best: 0.95, tiedWith: 0, brokenBy: null})
    const tied = (acc: Record<string, number[]>, started: Record<string, number> = {}) =>
      compareRuns(
        Object.keys(acc).map((id, at) => run(id, at / 10, {createdAt: started[id] ?? 1000})),
        new Map(Object.entries(acc).map(([id, values]) => [id, [summary('val/acc', values)]])),
      ).winner
    // The same best: the better last value wins, then the fewer steps to the best, then the earlier start.
    expect(tied({x: [0.9, 0.7], y: [0.9, 0.8]})).toMatchObject({id: 'y', tiedWith: 1, brokenBy: 'last value'})
    expect(tied({x: [0.5, 0.9], y: [0.9, 0.9]})).toMatchObject({id: 'y', brokenBy: 'steps to the best'})
    expect(tied({x: [0.9], y: [0.9]}, {x: 1005, y: 1001})).toMatchObject({id: 'y', brokenBy: 'start time'})
    expect(tied({x: [0.9], y: [0.9]})).toMatchObject({id: 'x', brokenBy: null})
    // Lower is better for a loss asked for with --metric; no winner from a single run.
    const byLoss = compareRuns(runs, summaries, ['val/loss'])
    expect(byLoss.winner).toMatchObject({key: 'val/loss', id: 'a1', best: 0.3})
    expect(compareRuns(runs.slice(0, 1), summaries).winner).toBeNull()
    const legend = comparisonLegend(comparison, 'differing', 2).split('\n')
    expect(legend[0]).toBe('best val/acc: lr-0.01 (b2), 0.95 at step 2')
    expect(legend[1]).toBe(
      '* best in column (higher is better: val/acc; lower: val/loss); params that differ: optim.lr',
    )
    const tieLine = comparisonLegend(
      compareRuns(
        runs.slice(0, 2),
        new Map([
          ['a1', [summary('val/acc', [0.9, 0.7])]],
          ['b2', [summary('val/acc', [0.9, 0.8])]],
        ]),
      ),
      'differing',
    ).split('\n')[0]
    expect(tieLine).toBe(
      'best val/acc: lr-0.01 (b2), 0.9 at step 1; tied with 1 other run, decided by last value (ties go to the better last value, then fewer steps to the best, then the earlier start)',
    )
  })

  it('says there is no single winner when the runs select on different metrics', () => {
    const mixed = [
      runs[0]!,
      run('r9', 0.5, {task: 'tabular-regression', primaryMetric: 'val/rmse', primaryGoal: 'min'}),
    ]
    const comparison = compareRuns(mixed, new Map([...summaries, ['r9', [summary('val/rmse', [3, 2])]]]))
    expect(comparison.winner).toBeNull()
    expect(comparisonLegend(comparison, 'differing').split('\n')[0]).toMatch(
      /^no single winner: the runs select on different primary metrics/,
    )
  })

  it('shortens param headers to the shortest suffix no other param or header has', () => {
    expect(paramHeaders(['optim.lr', 'model.dropout'], ['optim.lr', 'model.dropout', 'optim.name'], [])).toEqual([
      'lr',
      'dropout',
    ])
    expect(paramHeaders(['optim.lr', 'sched.lr'], ['optim.lr', 'sched.lr'], [])).toEqual(['optim.lr', 'sched.lr'])
    expect(paramHeaders(['a.b.lr', 'c.b.lr'], ['a.b.lr', 'c.b.lr'], [])).toEqual(['a.b.lr', 'c.b.lr'])
    expect(paramHeaders(['model.name'], ['model.name', 'optim.name'], ['name'])).toEqual(['model.name'])
    expect(paramHeaders(['x.model.name'], ['x.model.name'], ['name'])).toEqual(['model.name'])
    expect(paramHeaders(['lr'], ['lr', 'optim.lr'], [])).toEqual(['lr'])
  })

  it('knows how many cells tell texts apart', () => {
    expect(distinguishingWidth(['lr-0.01', 'lr-0.001', 'lr-0.0001'])).toBe(9)
    expect(distinguishingWidth(['alpha', 'beta'])).toBe(5)
    expect(distinguishingWidth(['sweep-0001-alpha', 'sweep-0002-alpha'])).toBe(11)
    expect(distinguishingWidth(['same', 'same'])).toBe(4)
    expect(distinguishingWidth([])).toBe(0)
  })

  it('writes markdown with the best in bold', () => {
    const markdown = comparisonMarkdown(comparison).split('\n')
    expect(markdown[0]).toBe(
      '| run | name | val/acc last | val/acc best | optim.lr | val/loss last | val/loss best | status | duration |',
    )
    expect(markdown[1]).toBe('| --- | --- | ---: | ---: | --- | ---: | ---: | --- | ---: |')
    expect(markdown[3]).toBe('| b2 | lr-0.01 | 0.95 | **0.95** | 0.01 | 0.35 | 0.35 | completed | 10.0s |')
  })

  it('writes markdown that shows names as text: no HTML, links, emphasis or column breaks', () => {
    const hostile = [
      run('h1', 0.1, {name: '<img src=x onerror=alert(1)>'}),
      run('h2', 0.2, {name: '[click](javascript:alert(1)) **bold** a|b `code` &amp; ~~x~~'}),
    ]
    const markdown = comparisonMarkdown(compareRuns(hostile, new Map())).split('\n')
    expect(markdown[2]).toBe('| h1 | &lt;img src=x onerror=alert(1)&gt; | 0.1 | completed | 10.0s |')
    expect(markdown[3]).toBe(
      '| h2 | \\[click\\](javascript:alert(1)) \\*\\*bold\\*\\* a\\|b \\`code\\` &amp;amp; \\~\\~x\\~\\~ | 0.2 | completed | 10.0s |',
    )
    for (const line of markdown) expect(line).not.toMatch(/<[a-z]/i)
  })

  it('writes CSV at full precision, quoting where needed', () => {
    const quoted = run('q1', 0.5, {name: 'a, "quoted" name'})
    const other = run('q2', 0.5, {config: {...quoted.config, model: {channels: [8, 16]}}})
    const csv = comparisonCsv(compareRuns([quoted, other], new Map([['q1', [summary('val/acc', [1 / 3])]]]))).split(
      '\n',
    )
    expect(csv[0]).toBe(
      'id,name,task,status,started_at,duration_s,model.channels,val/acc:last,val/acc:best,val/acc:min,val/acc:max',
    )
    expect(csv[1]).toBe(
      `q1,"a, ""quoted"" name",image-classification,completed,1970-01-01T00:16:40.000Z,10.000,"[32,64]",${1 / 3},${1 / 3},${1 / 3},${1 / 3}`,
    )
    expect(csv[2]).toBe('q2,lr-0.5,image-classification,completed,1970-01-01T00:16:40.000Z,10.000,"[8,16]",,,,')
  })
})

describe('uniquePrefixLength', () => {
  it('is the shortest length that tells the shown ids apart from every id, at least 4', () => {
    const all = ['3fa9c2ab01', '3fa9d00000', 'b71c000002', 'b71c000003']
    expect(uniquePrefixLength(['3fa9c2ab01'], all)).toBe(5)
    expect(uniquePrefixLength(['b71c000002'], all)).toBe(10)
    expect(uniquePrefixLength(['3fa9c2ab01'], ['3fa9c2ab01', 'ffff000000'])).toBe(4)
    expect(uniquePrefixLength([], all)).toBe(4)
  })
})

describe('alignedLines', () => {
  it('pads to the widest cell in terminal cells (wide characters count two), numbers on the right, ends trimmed', () => {
    expect(
      alignedLines(
        [
          ['name', 'ms'],
          ['数字', '1.5'],
          ['a', '10.25'],
        ],
        (column) => column === 1,
      ),
    ).toEqual(['name     ms', '数字    1.5', 'a     10.25'])
  })
})
