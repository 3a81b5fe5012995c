import {describe, expect, it} from 'vitest'
import {UserError} from '../../src/core/errors.js'
import {parseSince} from '../../src/core/report/since.js'

describe('--since', () => {
  it('reads durations back from now and dates', () => {
    expect(parseSince('30m', 10_000)).toBe(10_000 - 1800)
    expect(parseSince('2h', 10_000)).toBe(10_000 - 7200)
    expect(parseSince('1.5d', 1_000_000)).toBe(1_000_000 - 129_600)
    expect(parseSince('1w', 1_000_000)).toBe(1_000_000 - 604_800)
    expect(parseSince('2026-11-29T10:00:00Z')).toBe(Date.UTC(2026, 10, 29, 10) / 1000)
  })

  it('refuses anything else with exit 2', () => {
    for (const bad of ['yesterday', '3 days', '-2h', '']) expect(() => parseSince(bad)).toThrow(UserError)
  })
})
