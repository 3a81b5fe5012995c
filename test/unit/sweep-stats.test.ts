import {describe, expect, it} from 'vitest'
import {mean, std, welchTTest} from '../../src/core/sweep/stats.js'

// Reference values: scipy 1.17.1, stats.ttest_ind(a, b, equal_var=False) (statistic, pvalue, df).
const SCIPY: Array<[number[], number[], number, number, number]> = [
  [[0.91, 0.93, 0.92], [0.9, 0.91, 0.89], 2.449489742783178, 0.07048399691021992, 4.0],
  [[0.5, 0.52, 0.51, 0.49], [0.5, 0.53, 0.48, 0.51], 0.0, 1.0, 5.010309278350515],
  [[1, 2, 3, 4, 5], [2, 4, 6, 8, 10, 12], -2.3763541031440183, 0.04928433820673053, 6.972255729794934],
  [[0.8, 0.81], [0.7, 0.72], 8.497058314499201, 0.031655563310946634, 1.4705882352941175],
  [[10.1, 9.9, 10.0, 10.2], [7, 13, 10, 11], -0.15978709238739167, 0.8831509473392921, 3.0159998862230313],
]

describe("Welch's t-test", () => {
  it.each(SCIPY)('matches scipy on %j vs %j', (a, b, t, p, df) => {
    const result = welchTTest(a, b)!
    expect(result.t).toBeCloseTo(t, 10)
    expect(result.df).toBeCloseTo(df, 10)
    expect(result.p).toBeCloseTo(p, 9)
  })

  it('needs two values on each side', () => {
    expect(welchTTest([1], [1, 2])).toBeNull()
  })

  it('mean and sample std', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5)
    expect(std([1, 2, 3, 4])).toBeCloseTo(1.2909944487358056, 14)
    expect(std([5])).toBe(0)
  })
})
