import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {UserError} from '../../src/core/errors.js'
import {openStore, type NewRun, type Store, type TailLine} from '../../src/core/store/store.js'
import {tempDir} from '../helpers/cli.js'

const stores: Store[] = []
afterEach(() => {
  for (const store of stores.splice(0)) store.close()
})

async function freshStore(dir = tempDir()): Promise<Store> {
  const store = await openStore(join(dir, '.mlx'))
  stores.push(store)
  return store
}

function newRun(store: Store, id: string, name = 'demo', createdAt = 1000, tags: string[] = []): NewRun {
  const run = {id, name, task: 'image-classification', host: 'h', runDir: store.runDir(id), config: {name, tags, optim: {lr: 0.1}}, primaryMetric: 'val/acc', primaryGoal: 'max' as const}
  store.createRun(run, createdAt)
  return run
}

function lines(...texts: string[]): TailLine[] {
  let offset = 0
  return texts.map((text) => {
    offset += Buffer.byteLength(text) + 1
    return {text, endOffset: offset}
  })
}

const metric = (step: number, values: Record<string, number | string>) => JSON.stringify({v: 1, t: 1000 + step, kind: 'metrics', step, values})

describe('store', () => {
  it('stores metrics, events and summaries, counting bad lines', async () => {
    const store = await freshStore()
    newRun(store, 'aaaa111111')
    const written = lines(metric(1, {'val/acc': 0.5, 'val/loss': 2}), '{"v":1,"t":1,"kind":"event","event":"start","epochs":2}', 'garbage', metric(2, {'val/acc': 0.9, 'val/loss': 3}), metric(3, {'val/acc': 0.7, 'val/loss': 'NaN'}))
    const batch = store.ingest('aaaa111111', 0, written)!
    expect(batch.records).toHaveLength(4)
    expect(batch.counters).toEqual({lines: 5, badLines: 1, tornLines: 0, skippedValues: 0, lastProblem: 'line 3: not valid JSON'})
    expect(store.metrics('aaaa111111').map((m) => [m.line, m.key, m.step, m.value])).toEqual([
      [1, 'val/acc', 1, 0.5],
      [1, 'val/loss', 1, 2],
      [4, 'val/acc', 2, 0.9],
      [4, 'val/loss', 2, 3],
      [5, 'val/acc', 3, 0.7],
      [5, 'val/loss', 3, null],
    ])
    const summaries = store.summaries(['aaaa111111']).get('aaaa111111')!
    expect(summaries).toEqual([
      {key: 'val/acc', count: 3, last: 0.7, lastStep: 3, min: 0.5, minStep: 1, max: 0.9, maxStep: 2},
      {key: 'val/loss', count: 3, last: null, lastStep: 3, min: 2, minStep: 1, max: 3, maxStep: 2},
    ])
    expect(store.events('aaaa111111')).toEqual([{line: 2, t: 1, event: 'start', data: {epochs: 2}}])
    expect(store.ingestOffset('aaaa111111')).toBe(written.at(-1)!.endOffset)
  })

  it("keeps each run's rows apart under shared metric keys, and removing a run removes its rows", async () => {
    const store = await freshStore()
    newRun(store, 'aaaa111111')
    newRun(store, 'bbbb222222')
    store.ingest('aaaa111111', 0, lines(metric(1, {'val/acc': 0.5, 'train/loss': 1})))
    store.ingest('bbbb222222', 0, lines(metric(1, {'val/acc': 0.6}), metric(2, {'val/acc': 0.7, 'val/f1': 0.1})))
    expect(store.metrics('aaaa111111').map((m) => [m.key, m.value])).toEqual([['val/acc', 0.5], ['train/loss', 1]])
    expect(store.metrics('bbbb222222').map((m) => [m.key, m.value])).toEqual([['val/acc', 0.6], ['val/acc', 0.7], ['val/f1', 0.1]])
    store.deleteRun('aaaa111111')
    expect(store.metrics('aaaa111111')).toEqual([])
    expect(store.summaries(['aaaa111111']).get('aaaa111111')).toEqual([])
    expect(store.metrics('bbbb222222')).toHaveLength(3)
  })

  it('resumes at the stored offset and never stores a line twice', async () => {
    const store = await freshStore()
    newRun(store, 'bbbb222222')
    const all = lines(metric(1, {x: 1}), metric(2, {x: 2}))
    expect(store.ingest('bbbb222222', 0, all.slice(0, 1))).not.toBeNull()
    expect(store.ingestOffset('bbbb222222')).toBe(all[0]!.endOffset)
    // A second follower that read from the old offset stores nothing.
    expect(store.ingest('bbbb222222', 0, all)).toBeNull()
    expect(store.ingest('bbbb222222', all[0]!.endOffset, all.slice(1))).not.toBeNull()
    expect(store.metrics('bbbb222222').map((m) => m.value)).toEqual([1, 2])
  })

  it('counts a torn last line and moves past it', async () => {
    const store = await freshStore()
    newRun(store, 'cccc333333')
    const batch = store.ingest('cccc333333', 0, lines(metric(1, {x: 1})), {endOffset: 100})!
    expect(batch.counters).toMatchObject({lines: 2, tornLines: 1, lastProblem: 'line 2: torn (cut off mid-write), skipped'})
    expect(store.ingestOffset('cccc333333')).toBe(100)
  })

  it('resolves runs by id, unique prefix and name', async () => {
    const store = await freshStore()
    newRun(store, 'abc1000000', 'first', 1)
    newRun(store, 'abc2000000', 'second', 2)
    newRun(store, 'ffff000000', 'second', 3)
    expect(store.resolveRun('abc1000000').name).toBe('first')
    expect(store.resolveRun('abc2').name).toBe('second')
    expect(store.resolveRun('second').id).toBe('ffff000000')
    expect(() => store.resolveRun('abc')).toThrow(/ambiguous: abc2000000, abc1000000/)
    expect(() => store.resolveRun('zzz')).toThrow(UserError)
    expect(() => store.resolveRun('%')).toThrow(/no run matches/)
  })

  it('lists newest first, filtered by status, name glob and tags', async () => {
    const store = await freshStore()
    newRun(store, 'a000000001', 'digits-a', 1, ['baseline', 'cnn'])
    newRun(store, 'a000000002', 'digits-b', 2)
    newRun(store, 'a000000003', 'other', 3)
    store.finishRun('a000000002', {status: 'failed', endedAt: 5, exitCode: 1, signal: null, error: 'boom'})
    expect(store.listRuns().map((r) => r.id)).toEqual(['a000000003', 'a000000002', 'a000000001'])
    expect(store.listRuns({status: ['failed']}).map((r) => r.id)).toEqual(['a000000002'])
    expect(store.listRuns({name: 'digits-*'}).map((r) => r.id)).toEqual(['a000000002', 'a000000001'])
    expect(store.listRuns({limit: 1}).map((r) => r.id)).toEqual(['a000000003'])
    expect(store.listRuns({tags: ['baseline']}).map((r) => r.id)).toEqual(['a000000001'])
    expect(store.listRuns({tags: ['baseline', 'cnn']}).map((r) => r.id)).toEqual(['a000000001'])
    expect(store.listRuns({tags: ['baseline', 'other']})).toEqual([])
    expect(store.listRuns({since: 2}).map((r) => r.id)).toEqual(['a000000003', 'a000000002'])
    expect(store.getRun('a000000002')).toMatchObject({status: 'failed', exitCode: 1, error: 'boom', endedAt: 5})
  })

  it('reopens an existing store without migrating twice', async () => {
    const dir = tempDir()
    const first = await freshStore(dir)
    newRun(first, 'dddd444444')
    first.close()
    stores.splice(stores.indexOf(first), 1)
    const second = await freshStore(dir)
    expect(second.getRun('dddd444444')?.name).toBe('demo')
  })
})
