import {describe, expect, it} from 'vitest'
import {statusOf} from '../../src/core/run/outcome.js'
import {visibleGpus} from '../../src/core/run/process.js'

describe('how a run ended', () => {
  it.each([
    [{exitCode: 0, signal: null}, false, false, 'completed'],
    [{exitCode: 0, signal: null}, true, false, 'completed'], // it finished before the interrupt landed
    [{exitCode: 1, signal: null}, false, false, 'failed'],
    [{exitCode: 1, signal: null}, false, true, 'diverged'],
    [{exitCode: 130, signal: null}, true, false, 'interrupted'],
    [{exitCode: null, signal: 'SIGKILL'}, true, false, 'interrupted'],
    [{exitCode: null, signal: 'SIGKILL'}, false, false, 'failed'], // killed by something else (the OOM killer)
  ] as const)('%o, interrupted %s, diverged %s: %s', (outcome, interrupted, diverged, status) => {
    expect(statusOf(outcome, interrupted, diverged)).toBe(status)
  })
})

describe('launch.gpus', () => {
  it('sets CUDA_VISIBLE_DEVICES for a count or a list, and leaves it alone for all', () => {
    expect(visibleGpus('all')).toEqual({})
    expect(visibleGpus(2)).toEqual({CUDA_VISIBLE_DEVICES: '0,1'})
    expect(visibleGpus(0)).toEqual({CUDA_VISIBLE_DEVICES: ''})
    expect(visibleGpus([3, 1])).toEqual({CUDA_VISIBLE_DEVICES: '3,1'})
  })
})
