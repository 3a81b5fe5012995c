import {appendFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {metricGoal} from '../../src/core/metrics/goal.js'
import {parseMetricsLine} from '../../src/core/metrics/parse.js'
import {advance, initialProgress} from '../../src/core/metrics/progress.js'
import {readNewLines} from '../../src/core/metrics/tail.js'
import {tempDir} from '../helpers/cli.js'

describe('parseMetricsLine', () => {
  it('reads a metrics line', () => {
    expect(
      parseMetricsLine(
        '{"v":1,"t":1764403200.12,"kind":"metrics","step":120,"epoch":1,"values":{"train/loss":0.41,"lr":0.001}}',
      ),
    ).toEqual({
      ok: true,
      record: {
        kind: 'metrics',
        t: 1764403200.12,
        step: 120,
        epoch: 1,
        values: [
          {key: 'train/loss', value: 0.41},
          {key: 'lr', value: 0.001},
        ],
        skipped: 0,
      },
    })
  })

  it('reads an event line, keeping its fields as data', () => {
    expect(
      parseMetricsLine('{"v":1,"t":5,"kind":"event","event":"checkpoint","path":"checkpoints/epoch1.pt"}'),
    ).toEqual({
      ok: true,
      record: {kind: 'event', t: 5, event: 'checkpoint', data: {path: 'checkpoints/epoch1.pt'}},
    })
  })

  it('accepts non-finite values written as strings, skips other non-numbers and ignores unknown fields', () => {
    const parsed = parseMetricsLine(
      '{"v":1,"t":1,"kind":"metrics","step":3,"values":{"a":"NaN","b":"Infinity","c":"-Infinity","d":"text","e":true},"host":"x"}',
    )
    expect(parsed.ok && parsed.record.kind === 'metrics' && parsed.record).toMatchObject({
      epoch: null,
      values: [
        {key: 'a', value: NaN},
        {key: 'b', value: Infinity},
        {key: 'c', value: -Infinity},
      ],
      skipped: 2,
    })
  })

  it.each([
    ['{"v":1,"t":1,"kind":"metr', 'not valid JSON'],
    ['not json at all', 'not valid JSON'],
    ['[1,2]', 'not a JSON object'],
    ['{"v":2,"t":1,"kind":"metrics","step":1,"values":{}}', 'unsupported protocol version 2'],
    ['{"v":1,"kind":"metrics","step":1,"values":{}}', 't must be a finite number (seconds since the epoch)'],
    ['{"v":1,"t":1,"kind":"metrics","step":-1,"values":{}}', 'step must be a non-negative integer'],
    ['{"v":1,"t":1,"kind":"metrics","step":1.5,"values":{}}', 'step must be a non-negative integer'],
    ['{"v":1,"t":1,"kind":"metrics","step":1,"values":[1]}', 'values must be an object of metric names to numbers'],
    ['{"v":1,"t":1,"kind":"metrics","step":1,"epoch":"one","values":{}}', 'epoch must be a number'],
    ['{"v":1,"t":1,"kind":"event"}', 'event must be a non-empty string'],
    ['{"v":1,"t":1,"kind":"log"}', 'unknown kind "log"'],
  ])('reports %s as a problem, never throwing', (line, problem) => {
    expect(parseMetricsLine(line)).toEqual({ok: false, problem})
  })
})

describe('readNewLines', () => {
  it('returns complete lines only, resuming at the byte offset', () => {
    const file = join(tempDir(), 'metrics.jsonl')
    writeFileSync(file, 'one\ntwo\nthr')
    const first = readNewLines(file, 0)
    expect(first.lines).toEqual([
      {text: 'one', endOffset: 4},
      {text: 'two', endOffset: 8},
    ])
    expect(first.torn).toBeUndefined()
    appendFileSync(file, 'ee\n')
    expect(readNewLines(file, 8).lines).toEqual([{text: 'three', endOffset: 14}])
    expect(readNewLines(file, 14).lines).toEqual([])
  })

  it('reports a partial last line as torn only at the end', () => {
    const file = join(tempDir(), 'metrics.jsonl')
    writeFileSync(file, 'é1\n{"v":1,"t"')
    expect(readNewLines(file, 0).torn).toBeUndefined()
    const final = readNewLines(file, 0, true)
    expect(final.lines).toEqual([{text: 'é1', endOffset: 4}])
    expect(final.torn).toEqual({endOffset: 4 + 10})
  })

  it('treats a missing file as empty', () => {
    expect(readNewLines(join(tempDir(), 'none.jsonl'), 0, true)).toEqual({lines: []})
  })
})

describe('metricGoal', () => {
  it.each([
    ['val/loss', 'min'],
    ['train/loss', 'min'],
    ['val/wer', 'min'],
    ['val/acc', 'max'],
    ['val/f1', 'max'],
    ['val/auc', 'max'],
    ['lr', undefined],
    ['epsilon', undefined],
  ])('%s: %s', (key, goal) => {
    expect(metricGoal(key)).toBe(goal)
  })

  it('prefers the configured goal', () => {
    expect(metricGoal('val/acc', {'val/acc': 'min'})).toBe('min')
  })
})

describe('progress', () => {
  it('follows the start event, steps and epochs, and estimates the time left from the training start', () => {
    let progress = initialProgress()
    progress = advance(progress, [{kind: 'event', t: 105, event: 'start', data: {epochs: 2, total_steps: 10}}], 100)
    progress = advance(
      progress,
      [{kind: 'metrics', t: 110, step: 5, epoch: 1, values: [{key: 'train/loss', value: 0.5}], skipped: 0}],
      100,
    )
    expect(progress).toMatchObject({
      epochs: 2,
      totalSteps: 10,
      step: 5,
      epoch: 0,
      elapsed: 10,
      eta: 5,
      latest: {'train/loss': 0.5},
    })
    progress = advance(progress, [{kind: 'event', t: 111, event: 'epoch_end', data: {epoch: 1}}], 100)
    expect(progress.epoch).toBe(1)
  })
})
