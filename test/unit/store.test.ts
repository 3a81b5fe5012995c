import {cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {UserError} from '../../src/core/errors.js'
import {ingestAvailable} from '../../src/core/store/ingest.js'
import {openStore} from '../../src/core/store/open.js'
import type {NewRun, Store} from '../../src/core/store/store.js'
import type {TailLine} from '../../src/core/metrics/tail.js'
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
  const run = {
    id,
    name,
    task: 'image-classification',
    host: 'h',
    config: {name, tags, optim: {lr: 0.1}},
    primaryMetric: 'val/acc',
    primaryGoal: 'max' as const,
  }
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

const metric = (step: number, values: Record<string, number | string>) =>
  JSON.stringify({v: 1, t: 1000 + step, kind: 'metrics', step, values})

describe('store', () => {
  it('stores metrics, events and summaries, counting bad lines', async () => {
    const store = await freshStore()
    newRun(store, 'aaaa111111')
    const written = lines(
      metric(1, {'val/acc': 0.5, 'val/loss': 2}),
      '{"v":1,"t":1,"kind":"event","event":"start","epochs":2}',
      'garbage',
      metric(2, {'val/acc': 0.9, 'val/loss': 3}),
      metric(3, {'val/acc': 0.7, 'val/loss': 'NaN'}),
    )
    const batch = store.ingest('aaaa111111', 0, written)!
    expect(batch.records).toHaveLength(4)
    expect(batch.counters).toEqual({
      lines: 5,
      badLines: 1,
      tornLines: 0,
      skippedValues: 0,
      lastProblem: 'line 3: not valid JSON',
    })
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
    expect(store.metrics('aaaa111111').map((m) => [m.key, m.value])).toEqual([
      ['val/acc', 0.5],
      ['train/loss', 1],
    ])
    expect(store.metrics('bbbb222222').map((m) => [m.key, m.value])).toEqual([
      ['val/acc', 0.6],
      ['val/acc', 0.7],
      ['val/f1', 0.1],
    ])
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
    expect(batch.counters).toMatchObject({
      lines: 2,
      tornLines: 1,
      lastProblem: 'line 2: torn (cut off mid-write), skipped',
    })
    expect(store.ingestOffset('cccc333333')).toBe(100)
  })

  it('resolves runs by id, then name, then unique prefix', async () => {
    const store = await freshStore()
    newRun(store, 'abc1000000', 'first', 1)
    newRun(store, 'abc2000000', 'second', 2)
    newRun(store, 'ffff000000', 'second', 3)
    expect(store.resolveRun('abc1000000').name).toBe('first')
    expect(store.resolveRun('abc2').name).toBe('second')
    const notices: string[] = []
    store.notice = (line) => notices.push(line)
    expect(store.resolveRun('second').id).toBe('ffff000000')
    expect(notices).toEqual(['mlx: "second" names 2 runs; taking the newest, ffff000000'])
    expect(store.resolveRun('first').id).toBe('abc1000000')
    expect(notices).toHaveLength(1)
    // What cannot be undone refuses a shared name, listing the runs; a unique one is taken.
    expect(() => store.resolveRun('second', 'unique')).toThrow(
      /^"second" names 2 runs, newest first: ffff000000 \(running\), abc2000000 \(running\)$/,
    )
    expect(store.resolveRun('first', 'unique').id).toBe('abc1000000')
    expect(store.resolveRun('ffff', 'unique').id).toBe('ffff000000')
    for (let index = 0; index < 6; index++) newRun(store, `eeee00000${index}`, 'many', 10 + index)
    expect(() => store.resolveRun('many', 'unique')).toThrow(
      /names 6 runs, newest first: (eeee\d{6} \(running\), ){4}eeee\d{6} \(running\), and 1 more$/,
    )
    expect(() => store.resolveRun('abc')).toThrow(/ambiguous: abc2000000, abc1000000/)
    expect(() => store.resolveRun('zzz')).toThrow(UserError)
    expect(() => store.resolveRun('%')).toThrow(/no run matches/)
    // A name wins over another run's id that merely starts with it (mlx rm a removed the run whose id began with a).
    newRun(store, 'a0b1c2d3e4', 'fails', 20)
    newRun(store, 'dddd000000', 'a', 21)
    notices.length = 0
    expect(store.resolveRun('a', 'unique').id).toBe('dddd000000')
    expect(notices).toEqual([
      'mlx: "a" is a run\'s name and the start of the id of a0b1c2d3e4, abc2000000, abc1000000: taking the name',
    ])
    expect(store.resolveRun('a0b').name).toBe('fails')
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

describe('the index follows the run directories', () => {
  it('keeps run directories relative to the store: an old store with absolute paths is migrated, and a copy works on its own files', async () => {
    const {default: Database} = await import('better-sqlite3')
    const {MIGRATIONS} = await import('../../src/core/store/migrations.js')
    const original = join(tempDir(), '.mlx')
    mkdirSync(join(original, 'runs', 'eeee555555'), {recursive: true})
    const db = new Database(join(original, 'mlx.db'))
    db.exec(MIGRATIONS[0]!)
    db.exec(MIGRATIONS[1]!)
    db.pragma('user_version = 2')
    db.prepare(
      "INSERT INTO runs (id, name, task, status, created_at, host, run_dir, config_json, primary_metric) VALUES ('eeee555555', 'old', 'image-classification', 'completed', 1, 'h', ?, '{}', 'val/acc')",
    ).run(join(original, 'runs', 'eeee555555'))
    db.close()
    const copy = join(tempDir(), 'elsewhere', '.mlx')
    cpSync(original, copy, {recursive: true})
    const store = await freshStore(join(copy, '..'))
    expect(store.getRun('eeee555555')?.runDir).toBe(join(copy, 'runs', 'eeee555555'))
  })

  it('migrations 5 and 6: the runs table rebuilt for sweeps without losing a metric, param or event of the runs before; run kinds', async () => {
    const {default: Database} = await import('better-sqlite3')
    const {MIGRATIONS} = await import('../../src/core/store/migrations.js')
    const dir = join(tempDir(), '.mlx')
    mkdirSync(join(dir, 'runs', 'abcd000001'), {recursive: true})
    const db = new Database(join(dir, 'mlx.db'))
    for (const migration of MIGRATIONS.slice(0, 4)) db.exec(migration)
    db.pragma('user_version = 4')
    db.prepare(
      "INSERT INTO runs (id, name, task, status, created_at, host, run_dir, config_json, primary_metric, tags_json, notes_json) VALUES ('abcd000001', 'old', 'tabular', 'completed', 1, 'h', 'runs/abcd000001', '{\"optim\":{\"lr\":0.1}}', 'val/acc', '[\"t\"]', '[{\"at\":2,\"text\":\"n\"}]')",
    ).run()
    db.exec(`INSERT INTO metric_keys (id, name) VALUES (1, 'val/acc');
      INSERT INTO metrics (run, line, key, step, epoch, t, value) VALUES (1, 1, 1, 5, 1, 3, 0.9);
      INSERT INTO run_params (key, run, value) VALUES ('optim.lr', 1, '0.1');
      INSERT INTO metric_summary (run_id, key, count, last, last_step) VALUES ('abcd000001', 'val/acc', 1, 0.9, 5);
      INSERT INTO events (run_id, line, t, event, data_json) VALUES ('abcd000001', 2, 3, 'end', '{}');`)
    db.close()
    const store = await freshStore(join(dir, '..'))
    expect(store.getRun('abcd000001')).toMatchObject({
      name: 'old',
      tags: ['t'],
      notes: [{at: 2, text: 'n'}],
      trial: null,
    })
    expect(store.metrics('abcd000001').map((m) => m.value)).toEqual([0.9])
    expect(store.summaries(['abcd000001']).get('abcd000001')?.[0]?.last).toBe(0.9)
    expect(store.events('abcd000001').map((e) => e.event)).toEqual(['end'])
    expect(store.paramValues('optim.lr', [1]).get(1)).toBe(0.1)
    expect(store.check()).toEqual(['ok'])
    // A sweep's trial: its tag in the index and in run.json; pruned is a status.
    store.createRun(
      {
        id: 'abcd000002',
        name: 's-t3-s1',
        task: 'tabular',
        host: 'h',
        config: {optim: {lr: 0.2}},
        primaryMetric: 'val/acc',
        primaryGoal: 'max',
        trial: {sweep: 's', number: 3, seed: 1, fold: null},
      },
      5,
    )
    store.finishRun('abcd000002', {status: 'interrupted', endedAt: 6, exitCode: 130, signal: null, error: null})
    store.markPruned('abcd000002')
    expect(store.sweepRuns('s').map((run) => [run.id, run.status, run.trial])).toEqual([
      ['abcd000002', 'pruned', {sweep: 's', number: 3, seed: 1, fold: null}],
    ])
    const file = JSON.parse(readFileSync(join(store.runDir('abcd000002'), 'run.json'), 'utf8'))
    expect(file).toMatchObject({status: 'pruned', trial: {sweep: 's', number: 3, seed: 1, fold: null}})
    expect(store.sweepNames()).toEqual(['s'])
    // Runs before migration 6 train; a profile run (mlx profile) says so in the index and in run.json, which rebuilds it.
    expect(store.getRun('abcd000001')?.kind).toBe('train')
    store.createRun(
      {
        id: 'abcd000003',
        name: 'p',
        task: 'tabular',
        host: 'h',
        config: {},
        primaryMetric: 'val/acc',
        primaryGoal: 'max',
        kind: 'profile',
      },
      7,
    )
    expect(store.getRun('abcd000003')?.kind).toBe('profile')
    const {readRunDirectory} = await import('../../src/core/store/run-file.js')
    writeFileSync(join(store.runDir('abcd000003'), 'config.json'), '{}')
    const recovered = readRunDirectory(store.runDir('abcd000003'), 'abcd000003')
    expect('run' in recovered && recovered.run.kind).toBe('profile')
  })

  it('writes every change of a run to its run.json, atomically', async () => {
    const store = await freshStore()
    newRun(store, 'ffff666666', 'first')
    const runFile = () => JSON.parse(readFileSync(join(store.runDir('ffff666666'), 'run.json'), 'utf8'))
    expect(runFile()).toMatchObject({id: 'ffff666666', name: 'first', status: 'running', follower: {pid: process.pid}})
    store.setProcess('ffff666666', {pid: 4242, jobId: null})
    expect(runFile().pid).toBe(4242)
    store.rename('ffff666666', 'second')
    store.setTags('ffff666666', ['a'])
    store.requestStop('ffff666666', 7)
    store.finishRun('ffff666666', {status: 'interrupted', endedAt: 9, exitCode: 130, signal: null, error: 'stopped'})
    expect(runFile()).toMatchObject({
      name: 'second',
      tags: ['a'],
      stopRequestedAt: 7,
      status: 'interrupted',
      endedAt: 9,
      exitCode: 130,
      error: 'stopped',
      follower: null,
    })
    expect(readdirSync(store.runDir('ffff666666'))).toEqual(['run.json'])
  })

  it('a run is claimed once: a second resume of a running run is refused, naming who follows it', async () => {
    const store = await freshStore()
    newRun(store, 'abab000001')
    store.finishRun('abab000001', {status: 'interrupted', endedAt: 2, exitCode: 130, signal: null, error: null})
    store.restartRun('abab000001', {name: 'demo', optim: {lr: 0.2}})
    expect(() => store.restartRun('abab000001', {name: 'demo'})).toThrow(
      new RegExp(`^run abab000001 is already running \\(followed by mlx pid ${process.pid} on `),
    )
    expect(store.getRun('abab000001')?.config).toEqual({name: 'demo', optim: {lr: 0.2}})
  })

  it('indexes run directories the index lacks from their files, as they were; a directory it cannot read is skipped with why', async () => {
    const dir = tempDir()
    const store = await freshStore(dir)
    newRun(store, 'cdcd000001', 'kept', 5, ['t'])
    const file = join(store.runDir('cdcd000001'), 'metrics.jsonl')
    writeFileSync(
      join(store.runDir('cdcd000001'), 'config.json'),
      JSON.stringify({name: 'kept', tags: ['t'], optim: {lr: 0.1}}),
    )
    writeFileSync(
      file,
      [
        metric(1, {'val/acc': 0.5}),
        metric(2, {'val/acc': 'NaN'}),
        '{"v":1,"t":3,"kind":"event","event":"resume","from_step":1}',
        metric(2, {'val/acc': 0.7}),
        'garbage',
        '',
      ].join('\n'),
    )
    ingestAvailable(store, 'cdcd000001', file, true)
    store.finishRun('cdcd000001', {status: 'completed', endedAt: 9, exitCode: 0, signal: null, error: null})
    const before = {
      run: store.getRun('cdcd000001'),
      metrics: store.metrics('cdcd000001'),
      summaries: store.summaries(['cdcd000001']),
      events: store.events('cdcd000001', true),
    }
    mkdirSync(store.runDir('broken0001'))
    writeFileSync(join(store.runDir('broken0001'), 'run.json'), '{"id": "broken0001"')
    store.close()
    stores.splice(stores.indexOf(store), 1)
    rmSync(join(dir, '.mlx', 'mlx.db'))

    const {openStoreReporting} = await import('../../src/core/store/open.js')
    const {store: rebuilt, indexed} = await openStoreReporting(join(dir, '.mlx'))
    stores.push(rebuilt)
    expect(indexed.indexed).toEqual(['cdcd000001'])
    expect(indexed.skipped).toEqual([
      {id: 'broken0001', problem: expect.stringMatching(/^run\.json is not valid JSON/)},
    ])
    expect({
      run: rebuilt.getRun('cdcd000001'),
      metrics: rebuilt.metrics('cdcd000001'),
      summaries: rebuilt.summaries(['cdcd000001']),
      events: rebuilt.events('cdcd000001', true),
    }).toEqual({...before, run: {...before.run, follower: null}})
  })

  it('ingests a backlog in bounded batches, storing exactly what one batch would', async () => {
    const file = join(tempDir(), 'metrics.jsonl')
    const text = Array.from({length: 3000}, (_, i) =>
      i === 1500
        ? '{"v":1,"t":1,"kind":"event","event":"resume","from_step":1000}'
        : metric(i, {'train/loss': 1 / (i + 1), 'val/acc': i % 7 === 0 ? 'NaN' : (i % 100) / 100}),
    ).join('\n')
    writeFileSync(file, `${text}\n{"v":1,"t":2,"kind":"metr`)
    const whole = await freshStore()
    const batched = await freshStore()
    for (const store of [whole, batched]) newRun(store, 'dede000001')
    const seen: number[] = []
    ingestAvailable(whole, 'dede000001', file, true)
    ingestAvailable(batched, 'dede000001', file, true, (records) => seen.push(records.length), 16 * 1024)
    expect(seen.length).toBeGreaterThanOrEqual(8)
    expect(batched.metrics('dede000001')).toEqual(whole.metrics('dede000001'))
    expect(batched.summaries(['dede000001'])).toEqual(whole.summaries(['dede000001']))
    expect(batched.getRun('dede000001')?.ingest).toEqual(whole.getRun('dede000001')?.ingest)
    expect(whole.getRun('dede000001')?.ingest).toMatchObject({lines: 3001, tornLines: 1})
  })
})
