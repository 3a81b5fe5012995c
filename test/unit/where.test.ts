import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {filterRuns, matchingRunIds, sortRuns} from '../../src/core/report/select.js'
import {UserError} from '../../src/core/errors.js'
import {openStore} from '../../src/core/store/open.js'
import {runRecord} from '../helpers/records.js'
import type {MetricSummary, RunRecord} from '../../src/core/store/store.js'
import {tempDir} from '../helpers/cli.js'
import {evaluate, globMatches, parseWhere, type Value} from '../../src/core/report/where.js'

const read = (fields: Record<string, Value | Value[]>) => (field: string) => fields[field]

describe('parseWhere', () => {
  it('parses comparisons, and/or/not with precedence, and parentheses', () => {
    expect(parseWhere('optim.lr < 0.01 and status = completed or not tag = x')).toEqual({
      kind: 'or',
      operands: [
        {
          kind: 'and',
          operands: [
            {kind: 'compare', field: 'optim.lr', operator: '<', value: 0.01},
            {kind: 'compare', field: 'status', operator: '=', value: 'completed'},
          ],
        },
        {kind: 'not', operand: {kind: 'compare', field: 'tag', operator: '=', value: 'x'}},
      ],
    })
    expect(parseWhere("(a = 1 OR b != 'two words') AND val/acc:last >= 1e-3")).toMatchObject({
      kind: 'and',
      operands: [{kind: 'or'}, {field: 'val/acc:last', operator: '>=', value: 0.001}],
    })
    expect(parseWhere('name ~ "digits-*"')).toEqual({kind: 'compare', field: 'name', operator: '~', value: 'digits-*'})
    expect(parseWhere('seed>=-3')).toEqual({kind: 'compare', field: 'seed', operator: '>=', value: -3})
  })

  it.each([
    ["'; DROP TABLE runs; --", 'column 1: this quoted text has no closing quote'],
    ['name = x; DROP TABLE runs; --', 'column 9: unexpected ";"'],
    ["status = completed' OR '1'='1", 'column 19: expected "and", "or" or the end, found "\' OR \'"'],
    ['1 = 1', 'column 1: expected a field'],
    ['status', 'column 7: expected an operator'],
    ['status =', 'column 9: expected a value after status ='],
    ['status = completed and', 'column 23: expected a field'],
    ['(status = completed', 'column 20: expected ")", found the end'],
    ['status = completed)', 'column 19: expected "and", "or" or the end, found ")"'],
    ['optim.lr << 1', 'column 11: expected a value after optim.lr <, found "<"'],
    ['', 'column 1: the expression is empty'],
    ['name = `rm -rf /`', 'column 8: unexpected "`"'],
  ])('refuses %j with a position', (source, message) => {
    expect(() => parseWhere(source)).toThrow(UserError)
    expect(() => parseWhere(source)).toThrow(message)
  })
})

describe('bounded work, whatever is typed', () => {
  it('matches a glob that makes a regular expression backtrack for minutes, at once', () => {
    const glob = `${'*a'.repeat(12)}*b`
    const started = performance.now()
    expect(globMatches(glob, 'a'.repeat(200))).toBe(false)
    expect(globMatches(glob, `${'a'.repeat(200)}b`)).toBe(true)
    // The regular expression the glob used to become: the same answers, only far slower.
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it.each([
    ['*', '', true],
    ['*', 'anything', true],
    ['?', '', false],
    ['a?c', 'abc', true],
    ['a*c', 'ac', true],
    ['a*c', 'abcd', false],
    ['*.yaml', 'x.yaml', true],
    ['lr-*-s?', 'lr-0.1-s1', true],
    ['lr-*-s?', 'lr-0.1-s12', false],
    ['*a*b*', 'xxaxxbxx', true],
    ['*a*b*', 'xxbxxaxx', false],
    ['[x]', '[x]', true],
    ['a.c', 'abc', false],
    ['ü*', 'über', true],
  ])('glob %j against %j: %s', (glob, text, expected) => {
    expect(globMatches(glob, text)).toBe(expected)
  })

  it('takes 8,000 or-terms (held flat) and refuses deep nesting, long text and long globs with exit 2', () => {
    const terms = Array.from({length: 8_000}, (_, i) => `id = r${i}`).join(' or ')
    const parsed = parseWhere(terms)
    expect(parsed).toMatchObject({kind: 'or'})
    expect(evaluate(parsed, read({id: 'r7999'}))).toBe(true)
    expect(evaluate(parsed, read({id: 'r8000'}))).toBe(false)
    const refused = (source: string, message: RegExp) => {
      let error: unknown
      try {
        parseWhere(source)
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(UserError)
      expect((error as UserError).exitCode).toBe(2)
      expect((error as UserError).message).toMatch(message)
      // The message echoes a bounded part of the input.
      expect((error as UserError).message.length).toBeLessThan(400)
    }
    refused(`${'('.repeat(20_000)}a = 1${')'.repeat(20_000)}`, /nest more than 64 deep/)
    refused(`${'not '.repeat(20_000)}a = 1`, /nest more than 64 deep/)
    refused(Array.from({length: 10_001}, (_, i) => `a = ${i}`).join(' or '), /more than 10000 comparisons/)
    refused(`name = '${'x'.repeat(2_000_000)}'`, /at most 1000000 are read/)
    refused(`name ~ '${'*x'.repeat(600)}'`, /a glob is at most 1000 characters/)
  })
})

describe('evaluate', () => {
  it('compares numbers as numbers, words as text, globs, and treats a missing field as no match', () => {
    const fields = read({'optim.lr': 0.001, status: 'completed', name: 'digits-cnn', tag: ['a', 'b']})
    expect(evaluate(parseWhere('optim.lr < 0.01'), fields)).toBe(true)
    expect(evaluate(parseWhere('optim.lr > 0.01'), fields)).toBe(false)
    expect(evaluate(parseWhere('name ~ digits-*'), fields)).toBe(true)
    expect(evaluate(parseWhere('name ~ "dig?ts-c*"'), fields)).toBe(true)
    expect(evaluate(parseWhere('tag = b and tag != c'), fields)).toBe(true)
    expect(evaluate(parseWhere('tag != a'), fields)).toBe(false)
    expect(evaluate(parseWhere('val/acc > 0.5'), fields)).toBe(false)
    expect(evaluate(parseWhere('val/acc != 0.5'), fields)).toBe(true)
    expect(evaluate(parseWhere('not (status = completed or optim.lr > 1)'), fields)).toBe(false)
  })
})

describe('filterRuns and sortRuns', () => {
  const run = (id: string, lr: number, status: RunRecord['status'], tags: string[] = []): RunRecord =>
    runRecord({
      id,
      status,
      createdAt: 0,
      endedAt: 10,
      config: {name: `run-${id}`, tags, optim: {lr, name: 'adam'}},
      tags,
    })
  const summary = (key: string, last: number, min: number, max: number): MetricSummary => ({
    key,
    count: 2,
    last,
    lastStep: 2,
    min,
    minStep: 1,
    max,
    maxStep: 2,
  })
  const runs = [run('a', 0.1, 'completed', ['baseline']), run('b', 0.001, 'completed'), run('c', 0.001, 'failed')]
  const summaries = new Map([
    ['a', [summary('val/acc', 0.7, 0.5, 0.8), summary('val/loss', 0.6, 0.4, 1)]],
    ['b', [summary('val/acc', 0.95, 0.6, 0.95), summary('val/loss', 0.2, 0.2, 0.9)]],
    ['c', [summary('val/acc', 0.3, 0.3, 0.3)]],
  ])

  it('filters on params, builtins, metrics (best by default) and tags', () => {
    const ids = (where: string) => filterRuns(runs, summaries, where).map((r) => r.id)
    expect(ids('optim.lr < 0.01 and status = completed and val/acc >= 0.9')).toEqual(['b'])
    expect(ids('val/acc >= 0.8')).toEqual(['a', 'b'])
    expect(ids('val/acc:last >= 0.8')).toEqual(['b'])
    expect(ids('val/loss <= 0.4')).toEqual(['a', 'b'])
    expect(ids('tag = baseline or status = failed')).toEqual(['a', 'c'])
    expect(ids('duration = 10 and optim.name = adam')).toEqual(['a', 'b', 'c'])
  })

  it('refuses a field no run has, suggesting one', () => {
    expect(() => filterRuns(runs, summaries, 'optim.lrr < 1')).toThrow(/no run has a field "optim.lrr"/)
    try {
      filterRuns(runs, summaries, 'val/acd > 1')
    } catch (error) {
      expect((error as UserError).hint).toBe('did you mean val/acc?')
    }
  })

  it('sorts metrics best first, others ascending, KEY:desc and KEY:asc explicit, missing values last', () => {
    const ids = (sort: string) => sortRuns(runs, summaries, sort).map((r) => r.id)
    expect(ids('val/acc')).toEqual(['b', 'a', 'c'])
    expect(ids('val/loss')).toEqual(['b', 'a', 'c'])
    expect(ids('val/acc:asc')).toEqual(['c', 'a', 'b'])
    expect(ids('optim.lr')).toEqual(['b', 'c', 'a'])
    expect(ids('name:desc')).toEqual(['c', 'b', 'a'])
  })
})

describe('matchingRunIds: --where over a real store, reading only the fields it names', () => {
  const metrics = (step: number, values: Record<string, number>) =>
    JSON.stringify({v: 1, t: 1000 + step, kind: 'metrics', step, values})
  async function seeded() {
    const store = await openStore(join(tempDir(), '.mlx'))
    const configs: Array<[string, Record<string, unknown>, Record<string, number>[], string[]]> = [
      [
        'aaaa000001',
        {optim: {lr: 0.1, name: 'adam'}, model: {channels: [16, 32]}, train: {max_steps: null}},
        [
          {'val/acc': 0.5, 'val/loss': 1},
          {'val/acc': 0.8, 'val/loss': 0.6},
        ],
        ['baseline'],
      ],
      [
        'bbbb000002',
        {optim: {lr: 0.001, name: 'adam'}, model: {channels: [32, 64]}, train: {max_steps: 100}},
        [
          {'val/acc': 0.6, 'val/loss': 0.9},
          {'val/acc': 0.95, 'val/loss': 0.2},
        ],
        [],
      ],
      [
        'cccc000003',
        {optim: {lr: 0.001, name: 'sgd'}, model: {channels: [32, 64]}, train: {max_steps: null}},
        [{'val/acc': 0.3}],
        [],
      ],
      ['dddd000004', {optim: {lr: 0.01, name: 'sgd'}}, [], []],
    ]
    configs.forEach(([id, config, values, tags], i) => {
      store.createRun(
        {
          id,
          name: `run-${i}`,
          task: 'image-classification',
          host: 'h',
          config: {name: `run-${i}`, tags, ...config},
          primaryMetric: 'val/acc',
          primaryGoal: 'max',
        },
        1000 + i,
      )
      let offset = 0
      const lines = values.map((v, step) => {
        const text = metrics(step + 1, v)
        offset += Buffer.byteLength(text) + 1
        return {text, endOffset: offset}
      })
      store.ingest(id, 0, lines)
      store.finishRun(id, {
        status: i === 2 ? 'failed' : 'completed',
        endedAt: 1010 + i,
        exitCode: i === 2 ? 1 : 0,
        signal: null,
        error: null,
      })
    })
    return store
  }

  it('keeps exactly the runs filterRuns keeps, newest first, for params, lists, nulls, builtins, tags and metric aggregates', async () => {
    const store = await seeded()
    const all = store.listRuns()
    const summaries = store.summaries(all.map((run) => run.id))
    for (const where of [
      'optim.lr < 0.01 and status = completed and val/acc >= 0.9',
      'val/acc >= 0.8',
      'val/acc:last < 0.9',
      'val/loss <= 0.6 or tag = baseline',
      'model.channels = "32,64"',
      'train.max_steps = null',
      'optim.name ~ "s*" and not status = failed',
      'val/loss != 1',
      'duration < 100',
    ]) {
      expect(matchingRunIds(store, where), where).toEqual(filterRuns(all, summaries, where).map((run) => run.id))
    }
    expect(matchingRunIds(store, 'optim.lr > 0', {status: ['failed']})).toEqual(['cccc000003'])
    store.close()
  })

  it('reads page by page and stops at the limit: the newest N matches, pages split within equal start times', async () => {
    const store = await openStore(join(tempDir(), '.mlx'))
    // 300 runs over pages of 64, 128, 256; runs 100-199 started at the same second (ties broken by insertion).
    for (let i = 0; i < 300; i++) {
      const id = `run${String(i).padStart(7, '0')}`
      store.createRun(
        {
          id,
          name: `r${i}`,
          task: 'image-classification',
          host: 'h',
          config: {name: `r${i}`, optim: {lr: i % 3 === 0 ? 0.1 : 0.001}},
          primaryMetric: 'val/acc',
          primaryGoal: 'max',
        },
        i >= 100 && i < 200 ? 5000 : 1000 + i * 10,
      )
    }
    const all = store.listRuns()
    expect(all).toHaveLength(300)
    const expected = filterRuns(all, store.summaries(all.map((run) => run.id)), 'optim.lr < 0.01').map((run) => run.id)
    expect(expected).toHaveLength(200)
    expect(matchingRunIds(store, 'optim.lr < 0.01')).toEqual(expected)
    for (const limit of [1, 50, 64, 65, 150, 199, 200, 500])
      expect(matchingRunIds(store, 'optim.lr < 0.01', {}, limit), String(limit)).toEqual(expected.slice(0, limit))
    const pages = [...store.briefRunPages()].map((page) => page.length)
    expect(pages).toEqual([64, 128, 108])
    expect([...store.briefRunPages()].flat().map((run) => run.id)).toEqual(all.map((run) => run.id))
    store.close()
  })

  it('refuses a field no run has, suggesting one', async () => {
    const store = await seeded()
    expect(() => matchingRunIds(store, 'optim.lrr < 1')).toThrow(/no run has a field "optim.lrr"/)
    expect(() => matchingRunIds(store, 'val/acd > 1')).toThrow(expect.objectContaining({hint: 'did you mean val/acc?'}))
    store.close()
  })

  it('a run resumed with a new config is filtered by its new params; a removed run is gone', async () => {
    const store = await seeded()
    store.restartRun('dddd000004', {name: 'run-3', optim: {lr: 0.5, name: 'sgd'}})
    expect(matchingRunIds(store, 'optim.lr = 0.5')).toEqual(['dddd000004'])
    store.deleteRun('dddd000004')
    expect(matchingRunIds(store, 'optim.name = sgd')).toEqual(['cccc000003'])
    store.close()
  })
})
