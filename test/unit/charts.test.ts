import {describe, expect, it} from 'vitest'
import {lineChart, sparkline} from '../../src/core/report/charts.js'

describe('sparkline', () => {
  it('maps low to high onto ▁ to █, averaging into the width', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe('▁▂▃▄▅▆▇█')
    expect(sparkline([1, 1, 1])).toBe('▄▄▄')
    expect(sparkline([0, 0, 10, 10], 2)).toBe('▁█')
    expect(sparkline([null, Number.NaN])).toBe('')
    expect([
      ...sparkline(
        Array.from({length: 1000}, (_, i) => i),
        24,
      ),
    ]).toHaveLength(24)
  })
})

describe('lineChart', () => {
  it('draws a rising curve with its range and steps', () => {
    const lines = lineChart(
      [
        [1, 0],
        [2, 0.5],
        [3, 1],
      ],
      3,
      3,
    )
    expect(lines).toEqual(['1 ┤  •', '  ┤ • ', '0 ┤•  ', '  └───', '   step 1 3'])
  })

  it('joins a jump with a vertical stroke and says when there are no values', () => {
    const lines = lineChart(
      [
        [1, 0],
        [2, 1],
      ],
      2,
      4,
    )
    expect(lines.slice(0, 4)).toEqual(['1 ┤ •', '  ┤ │', '  ┤ │', '0 ┤• '])
    expect(lineChart([[1, null]])).toEqual(['(no values)'])
  })
})
