import {stripVTControlCharacters} from 'node:util'
import {render} from 'ink-testing-library'
import {describe, expect, it} from 'vitest'
import {displayWidth, fitTable, truncate, type Table} from '../../src/core/report/format.js'
import {advance, initialProgress} from '../../src/core/metrics/progress.js'
import {CompareTable} from '../../src/ui/components/CompareTable.js'
import {tableWidth} from '../../src/ui/table-lines.js'
import {barWidth, progressBar, RunProgress} from '../../src/ui/components/RunProgress.js'
import {BrowseTable, sortRows} from '../../src/ui/components/BrowseTable.js'
import {colourEnabled, printTable, tableText, tooTallForTerminal} from '../../src/ui/print.js'
import {terminalSize} from '../../src/ui/terminal.js'
import {renderAtWidth} from '../helpers/ink.js'

const table: Table = {
  headers: ['run', 'status', 'val/acc best'],
  rows: [
    [{text: 'a1'}, {text: 'completed', status: 'completed'}, {text: '0.95', align: 'right', best: true}],
    [{text: 'b2'}, {text: 'failed', status: 'failed'}, {text: '0.9', align: 'right', best: false}],
  ],
}

describe('CompareTable', () => {
  it('aligns the columns and marks the best value', () => {
    const {lastFrame} = render(<CompareTable table={table} legend="* best" />)
    expect(lastFrame()!.split('\n')).toEqual([
      'run  status     val/acc best', //
      'a1   completed         0.95*',
      'b2   failed             0.9', // ink trims the space that stands for the mark
      '* best',
    ])
  })

  it('knows its width', () => {
    expect(tableWidth(table)).toBe('run  status     val/acc best'.length)
  })

  it('renders an empty table as its header', () => {
    const {lastFrame} = render(<CompareTable table={{headers: ['run', 'name'], rows: []}} />)
    expect(lastFrame()).toBe('run  name')
  })
})

describe('RunProgress', () => {
  it('draws the bar, steps, ETA, throughput and the latest metrics (train first)', () => {
    const progress = {
      ...initialProgress(),
      epoch: 1,
      epochs: 4,
      step: 50,
      totalSteps: 100,
      elapsed: 12,
      eta: 10,
      samplesPerSec: 3210.4,
      latest: {'val/acc': 0.9, 'train/loss': 0.25, 'perf/samples_per_sec': 3210.4},
    }
    const {lastFrame} = render(
      <RunProgress
        header={{id: 'abc', name: 'digits', task: 'image-classification', python: 'python3'}}
        progress={progress}
      />,
    )
    const lines = lastFrame()!.split('\n')
    expect(lines[0]).toBe('digits  abc · image-classification · python3')
    expect(lines[1]).toBe(`epoch 2/4 ${progressBar(0.5)} 50% · step 50/100 · 12.0s · ETA 10.0s · 3210 samples/s`)
    expect(lines[2]).toBe('train/loss 0.25  val/acc 0.9')
  })

  it('reads naturally for RL: updates and env steps, as the start event names them, returns first', () => {
    const start = {
      kind: 'event' as const,
      t: 1000,
      event: 'start',
      data: {epochs: 10, total_steps: 4000, units: {step: 'update', samples: 'env steps'}},
    }
    const logged = {
      kind: 'metrics' as const,
      t: 1010,
      step: 400,
      epoch: 1,
      values: [
        {key: 'train/return', value: 187.5},
        {key: 'epsilon', value: 0.05},
        {key: 'perf/samples_per_sec', value: 1520},
      ],
      skipped: 0,
    }
    const progress = advance(initialProgress(), [start, logged], 999)
    expect(progress.units).toEqual({step: 'update', samples: 'env steps'})
    const lines = renderAtWidth(
      <RunProgress header={{id: 'abc', name: 'cartpole', task: 'rl-dqn', python: 'python3'}} progress={progress} />,
      200,
    ).split('\n')
    expect(lines[1]).toMatch(/^epoch 1\/10 .* · update 400\/4000 · .* · 1520 env steps\/s$/)
    expect(lines[2]).toBe('train/return 187.5  epsilon 0.05')
  })

  it('shows the primary metric first with its best so far, samples/s smoothed, a bar that shrinks with the terminal', () => {
    const at = (step: number, values: Record<string, number>) => ({
      kind: 'metrics' as const,
      t: 1000 + step,
      step,
      epoch: null,
      values: Object.entries(values).map(([key, value]) => ({key, value})),
      skipped: 0,
    })
    const start = {kind: 'event' as const, t: 1000, event: 'start', data: {epochs: 2, total_steps: 100}}
    const progress = advance(
      initialProgress({key: 'val/f1', goal: 'max'}),
      [
        start,
        at(10, {'train/loss': 0.9, 'perf/samples_per_sec': 1000}),
        at(20, {'val/f1': 0.8, 'val/loss': 0.5, 'perf/samples_per_sec': 2000}),
        at(30, {'val/f1': 0.7, 'val/loss': 0.4, 'perf/samples_per_sec': 1000}),
      ],
      999,
    )
    expect(progress.best).toEqual({'train/loss': 0.9, 'val/f1': 0.8, 'val/loss': 0.4})
    // 1000, then 1000 + 0.3 * (2000 - 1000) = 1300, then 1300 + 0.3 * (1000 - 1300) = 1210
    expect(progress.samplesPerSec).toBeCloseTo(1210)
    const header = {id: 'abc', name: 'digits', task: 'image-classification', python: 'python3'}
    const wide = renderAtWidth(<RunProgress header={header} progress={progress} />, 120).split('\n')
    expect(wide[1]).toContain(progressBar(0.3))
    expect(wide[1]).toMatch(/ · 1210 samples\/s$/)
    expect(wide[2]).toBe('val/f1 0.7 (best 0.8)  train/loss 0.9  val/loss 0.4')
    for (const columns of [60, 40]) {
      const lines = renderAtWidth(<RunProgress header={header} progress={progress} />, columns).split('\n')
      expect(lines[1]!.length, `${columns}`).toBeLessThanOrEqual(columns)
    }
    const narrow = renderAtWidth(<RunProgress header={header} progress={progress} />, 72).split('\n')[1]!
    expect(narrow).toMatch(/^epoch 1\/2 █+░+ 30% · step 30\/100/)
    expect(narrow.match(/[█░]/g)!.length).toBeLessThan(30)
    expect(barWidth(200, 50)).toBe(30)
    expect(barWidth(60, 50)).toBe(9)
    expect(barWidth(55, 50)).toBe(0)
  })

  it('waits for metrics before the first line arrives', () => {
    const {lastFrame} = render(
      <RunProgress
        header={{id: 'abc', name: 'digits', task: 'image-classification', python: 'python3'}}
        progress={initialProgress()}
      />,
    )
    expect(lastFrame()).toContain('waiting for the first metrics')
    expect(progressBar(0, 4)).toBe('░░░░')
    expect(progressBar(1, 4)).toBe('████')
  })
})

describe('CompareTable fitted to the terminal', () => {
  const wide: Table = {
    headers: ['run', 'name', 'status', 'duration', 'optim.name', 'model.channels', 'val/acc last', 'val/acc best'],
    shrinkable: [false, true, false, false, true, true, false, false],
    rows: [
      [
        {text: '3fa9c2ab01'},
        {text: 'digits-cnn-with-a-very-long-experiment-name'},
        {text: 'running', status: 'running'},
        {text: '12.0s', align: 'right'},
        {text: 'adamw'},
        {text: '[32,64]'},
        {text: '0.9944', align: 'right'},
        {text: '0.9944', align: 'right', best: true},
      ],
      [
        {text: 'b71c000002'},
        {text: '数字の実験 ünïcödé'},
        {text: 'failed', status: 'failed'},
        {text: '3.0s', align: 'right'},
        {text: 'sgd'},
        {text: '[8,16]'},
        {text: '–', align: 'right'},
        {text: '–', align: 'right', best: false},
      ],
    ],
  }

  it.each([40, 80, 200])(
    'at %i columns no line is wider, nothing wraps, the ids and best marks stay whole',
    (columns) => {
      const lines = renderAtWidth(<CompareTable table={fitTable(wide, columns)} />, columns).split('\n')
      expect(lines).toHaveLength(3) // header and two rows: nothing wrapped onto a line of its own
      for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(columns)
      expect(lines[1]!.startsWith('3fa9c2ab01')).toBe(true)
      expect(lines[2]!.startsWith('b71c000002')).toBe(true)
      if (columns === 200) {
        expect(lines[1]).toContain('digits-cnn-with-a-very-long-experiment-name')
        expect(lines[2]).toContain('数字の実験 ünïcödé')
        expect(lines[1]).toMatch(/0\.9944\*$/)
      } else {
        // The name and params gave way first (to 6 cells); what still did not fit is cut at the end.
        expect(lines[1]).toContain('  digit…  running')
        expect(lines[1]!.endsWith('…')).toBe(true)
      }
    },
  )

  it('cuts wide characters by their display width', () => {
    expect(truncate('数字の実験 ünïcödé', 7)).toBe('数字の…')
    expect(displayWidth(truncate('数字の実験 ünïcödé', 7))).toBeLessThanOrEqual(7)
    expect(truncate('short', 10)).toBe('short')
  })
})

describe('printed tables (no ink)', () => {
  const legend = '* best in column (val/acc higher is better); params shown: those that differ'
  const wide: Table = {
    headers: ['run', 'name', 'status', 'duration', 'optim.name', 'model.channels', 'val/acc last', 'val/acc best'],
    shrinkable: [false, true, false, false, true, true, false, false],
    keepWidth: [0, 16, 0, 0, 0, 0, 0, 0],
    rows: [
      [
        {text: '3fa9c2ab01'},
        {text: 'digits-cnn-with-a-very-long-experiment-name'},
        {text: 'running', status: 'running'},
        {text: '12.0s', align: 'right'},
        {text: 'adamw'},
        {text: '[32,64]'},
        {text: '0.9944', align: 'right'},
        {text: '0.9944', align: 'right', best: true},
      ],
      [
        {text: 'b71c000002'},
        {text: '数字の実験 ünïcödé'},
        {text: 'failed', status: 'failed'},
        {text: '3.0s', align: 'right'},
        {text: 'sgd'},
        {text: '[8,16]'},
        {text: '–', align: 'right'},
        {text: '–', align: 'right', best: false},
      ],
    ],
  }

  it.each([40, 80, 200])('at %i columns print what the ink table draws, legend wrapped alike', (columns) => {
    const printed = tableText(wide, legend, {columns, colour: false})
    expect(printed).toBe(
      renderAtWidth(<CompareTable table={fitTable(wide, columns)} legend={legend} width={columns} />, columns) + '\n',
    )
    for (const line of printed.trimEnd().split('\n')) expect(displayWidth(line)).toBeLessThanOrEqual(columns)
  })

  it('prints a pipe the whole table, uncut, trailing spaces trimmed', () => {
    const lines = tableText(wide, legend, {colour: false}).trimEnd().split('\n')
    expect(lines[1]).toContain('digits-cnn-with-a-very-long-experiment-name')
    expect(lines[2]).toMatch(/–$/)
    expect(lines.at(-1)).toBe(legend)
  })

  it('a terminal that reports 0 columns and rows (CI runners, `script`) gets the table at 80x24', () => {
    let out = ''
    const terminal = {isTTY: true, columns: 0, rows: 0, write: (text: string) => ((out += text), true)}
    printTable(wide, legend, terminal as unknown as NodeJS.WriteStream)
    const lines = stripVTControlCharacters(out).trimEnd().split('\n')
    expect(lines.length).toBeGreaterThan(3)
    for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(80)
    expect(lines.some((line) => displayWidth(line) > 70)).toBe(true)
    expect(terminalSize(terminal as unknown as NodeJS.WriteStream)).toEqual({columns: 80, rows: 24})
    expect(terminalSize({columns: 132, rows: 50} as NodeJS.WriteStream)).toEqual({columns: 132, rows: 50})
    expect(tooTallForTerminal({...wide, rows: wide.rows.slice(0, 1)}, terminal as unknown as NodeJS.WriteStream)).toBe(
      false,
    )
  })

  it('colours the header, statuses and best values with the theme, and nothing without colour', () => {
    const coloured = tableText(table, 'legend', {columns: 80, colour: true})
    expect(coloured.split('\n')[0]).toBe('\u001b[1m\u001b[36mrun  status     val/acc best\u001b[39m\u001b[22m')
    const [, completed, failed] = coloured.split('\n')
    expect(completed).toBe('a1   \u001b[32mcompleted  \u001b[39m\u001b[1m\u001b[32m       0.95*\u001b[39m\u001b[22m') // status, best: bold green
    expect(failed).toBe('b2   \u001b[31mfailed     \u001b[39m        0.9') // failed is red; the unmarked cell uncoloured
    expect(coloured.trimEnd().split('\n').at(-1)).toBe('\u001b[90mlegend\u001b[39m')
    expect(tableText(table, 'legend', {columns: 80, colour: false})).not.toContain('\u001b')
  })

  it('writes colour in a terminal, as FORCE_COLOR says, never under NO_COLOR', () => {
    expect(colourEnabled({isTTY: true}, {})).toBe(true)
    expect(colourEnabled({isTTY: false}, {})).toBe(false)
    expect(colourEnabled({isTTY: true}, {TERM: 'dumb'})).toBe(false)
    expect(colourEnabled({isTTY: false}, {FORCE_COLOR: '1'})).toBe(true)
    expect(colourEnabled({isTTY: true}, {FORCE_COLOR: '0'})).toBe(false)
    expect(colourEnabled({isTTY: true}, {NO_COLOR: '1', FORCE_COLOR: '3'})).toBe(false)
  })
})

describe('fitTable', () => {
  it('abbreviates a dotted param header before cutting it: optim.name -> o.name', () => {
    const table: Table = {
      headers: ['run', 'optim.name', 'model.channels'],
      shrinkable: [false, true, true],
      rows: [[{text: 'a1'}, {text: 'adamw'}, {text: '[32,64]'}]],
    }
    expect(fitTable(table, 3 + 2 + 6 + 2 + 7).headers).toEqual(['run', 'o.name', 'm.chan…'])
    expect(fitTable(table, 100).headers).toEqual(table.headers)
  })

  it('cuts params before the run name keeps fewer than 16 cells, and only then the name', () => {
    const name = 'sweep-0123-lr0.0005-adamw' // 25 cells
    const table: Table = {
      headers: ['run', 'name', ...Array.from({length: 8}, (_, i) => `param.number${i}`)],
      shrinkable: [false, true, ...Array(8).fill(true)],
      keepWidth: [0, 16, ...Array(8).fill(0)],
      rows: [[{text: 'a1b2'}, {text: name}, ...Array.from({length: 8}, () => ({text: 'value-of-12'}))]],
    }
    const widthsAt = (columns: number) => fitTable(table, columns).rows[0]!.map((cell) => displayWidth(cell.text))
    // 4 + 16 + 8 params of 8 cells, with 9 gaps of 2: params shrink from 13 to 8, the name only to 16.
    expect(widthsAt(4 + 16 + 8 * 8 + 9 * 2)).toEqual([4, 16, ...Array(8).fill(8)])
    // Narrower than every param at 6: the name gives way too, down to 6.
    expect(widthsAt(4 + 10 + 8 * 6 + 9 * 2)).toEqual([4, 10, ...Array(8).fill(6)])
    expect(fitTable(table, 200).rows[0]![1]!.text).toBe(name)
  })
})

describe('BrowseTable', () => {
  const many: Table = {
    headers: ['run', 'val/acc best'],
    rows: Array.from({length: 10}, (_, i) => [
      {text: `r${i}`},
      {text: String(((i * 7) % 10) / 10), align: 'right' as const, sortValue: ((i * 7) % 10) / 10},
    ]),
  }
  const press = async (stdin: {write(data: string): void}, keys: string) => {
    stdin.write(keys)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const rowsShown = (frame: string) =>
    frame
      .split('\n')
      .slice(1, 4)
      .map((line) => line.split(/\s+/)[0])

  it('scrolls a window of rows, moves the column cursor, sorts by the column under it back at the top, and quits', async () => {
    const {lastFrame, stdin, frames} = render(<BrowseTable table={many} legend="legend" height={3} />)
    expect(rowsShown(lastFrame()!)).toEqual(['r0', 'r1', 'r2'])
    expect(lastFrame()).toContain('rows 1–3 of 10')
    await press(stdin, '\u001B[B') // down arrow
    await press(stdin, 'j')
    expect(rowsShown(lastFrame()!)).toEqual(['r2', 'r3', 'r4'])
    await press(stdin, ' ') // a page down
    expect(lastFrame()).toContain('rows 6–8 of 10')
    await press(stdin, '\u001B[C') // right arrow: the val/acc column
    await press(stdin, 's') // sorting goes back to the top
    expect(lastFrame()).toContain('sorted by val/acc best ↑')
    expect(rowsShown(lastFrame()!)).toEqual(['r0', 'r3', 'r6']) // 0, 0.1, 0.2
    await press(stdin, ' ')
    await press(stdin, 's')
    expect(lastFrame()).toContain('sorted by val/acc best ↓')
    expect(rowsShown(lastFrame()!)).toEqual(['r7', 'r4', 'r1']) // 0.9, 0.8, 0.7
    await press(stdin, 'q')
    const afterQuit = frames.length
    await press(stdin, 'j')
    expect(frames.length).toBe(afterQuit) // it quit: keys no longer redraw it
  })

  it('sorts a higher-is-better metric best first on the first s', async () => {
    const {lastFrame, stdin} = render(
      <BrowseTable table={{...many, descendingFirst: [false, true]}} legend="legend" height={3} />,
    )
    await press(stdin, 'l')
    await press(stdin, 's')
    expect(lastFrame()).toContain('sorted by val/acc best ↓')
    expect(rowsShown(lastFrame()!)).toEqual(['r7', 'r4', 'r1'])
  })

  it('pans sideways past what fits, keeping the run id and name in place', async () => {
    const wideRows: Table = {
      headers: ['run', 'name', ...Array.from({length: 8}, (_, i) => `metric${i}`)],
      frozen: 2,
      rows: Array.from({length: 5}, (_, r) => [
        {text: `r${r}`},
        {text: `name-${r}`},
        ...Array.from({length: 8}, (_, i) => ({text: `v${r}${i}`, align: 'right' as const})),
      ]),
    }
    const {lastFrame, stdin} = render(<BrowseTable table={wideRows} legend="legend" height={3} width={40} />)
    const header = () => lastFrame()!.split('\n')[0]!
    expect(header()).toMatch(/^run +name +metric0 +metric1 +metric2$/)
    expect(lastFrame()).toContain('columns 3–5 of 10')
    for (let i = 0; i < 6; i++) await press(stdin, 'l') // the cursor onto metric4: the view pans
    expect(header()).toMatch(/^run +name +metric2 +metric3 +metric4$/)
    expect(lastFrame()!.split('\n')[1]).toMatch(/^r0 +name-0 +v02 +v03 +v04$/)
    for (let i = 0; i < 9; i++) await press(stdin, 'l') // past the last column: it stops there
    expect(header()).toMatch(/metric7$/)
    expect(lastFrame()).toContain('columns 8–10 of 10')
    for (let i = 0; i < 9; i++) await press(stdin, 'h') // back to the first
    expect(header()).toMatch(/^run +name +metric0/)
  })

  it('sorts numbers as numbers and puts missing values last', () => {
    const rows = [[{text: 'a', sortValue: 10}], [{text: 'b', sortValue: null}], [{text: 'c', sortValue: 9}]]
    expect(sortRows(rows, {column: 0, descending: false}).map((r) => r[0]!.text)).toEqual(['c', 'a', 'b'])
    expect(sortRows(rows, {column: 0, descending: true}).map((r) => r[0]!.text)).toEqual(['a', 'c', 'b'])
  })
})
