import {render} from 'ink-testing-library'
import {describe, expect, it} from 'vitest'
import type {Table} from '../../src/core/format.js'
import {initialProgress} from '../../src/core/metrics/progress.js'
import {CompareTable, tableWidth} from '../../src/ui/components/CompareTable.js'
import {progressBar, RunProgress} from '../../src/ui/components/RunProgress.js'

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
    const {lastFrame} = render(<RunProgress header={{id: 'abc', name: 'digits', task: 'image-classification', python: 'python3'}} progress={progress} />)
    const lines = lastFrame()!.split('\n')
    expect(lines[0]).toBe('digits  abc · image-classification · python3')
    expect(lines[1]).toBe(`epoch 2/4 ${progressBar(0.5)} 50% · step 50/100 · 12.0s · ETA 10.0s · 3210 samples/s`)
    expect(lines[2]).toBe('train/loss 0.25  val/acc 0.9')
  })

  it('waits for metrics before the first line arrives', () => {
    const {lastFrame} = render(<RunProgress header={{id: 'abc', name: 'digits', task: 'image-classification', python: 'python3'}} progress={initialProgress()} />)
    expect(lastFrame()).toContain('waiting for the first metrics')
    expect(progressBar(0, 4)).toBe('░░░░')
    expect(progressBar(1, 4)).toBe('████')
  })
})
