#!/usr/bin/env node
// Ingesting metrics.jsonl into the index, against a plain better-sqlite3 insert of the same rows
// (each line parsed with JSON.parse, every value inserted with one prepared statement in one
// transaction, into the same table with the same index), each in a fresh child process,
// alternated; and the memory a backlog of 10x as many rows takes (peak RSS of the child), which
// must not grow with the backlog. Goals: within 1.25x of the plain insert; memory bounded.
// Prints a Markdown section. ROWS (default 1,000,000) and ROUNDS (default 5) size it.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = fileURLToPath(new URL('..', import.meta.url))
const rows = Number(process.env.ROWS ?? 1_000_000)
const rounds = Number(process.env.ROUNDS ?? 5)
const KEYS = [
  'train/loss',
  'train/acc',
  'lr',
  'train/grad_norm',
  'perf/samples_per_sec',
  'perf/step_time',
  'perf/data_time',
  'val/loss',
  'val/acc',
  'val/f1',
]

/** A metrics.jsonl of `count` rows: lines of ten values, as a recipe logs them, an event every 100 lines. */
function writeMetrics(file, count) {
  const parts = []
  const lines = count / KEYS.length
  for (let step = 1; step <= lines; step++) {
    const values = Object.fromEntries(KEYS.map((key, i) => [key, Math.sin(step * 0.001 + i) * 0.5 + 0.5 + i]))
    parts.push(
      JSON.stringify({v: 1, t: 1764403200 + step * 0.01, kind: 'metrics', step, epoch: Math.ceil(step / 1000), values}),
    )
    if (step % 100 === 0)
      parts.push(
        JSON.stringify({v: 1, t: 1764403200 + step * 0.01, kind: 'event', event: 'epoch_end', epoch: step / 100, step}),
      )
    if (parts.length >= 50_000) {
      writeFileSync(file, parts.join('\n') + '\n', {flag: 'a'})
      parts.length = 0
    }
  }
  if (parts.length > 0) writeFileSync(file, parts.join('\n') + '\n', {flag: 'a'})
}

// What each child runs: mlx's ingestion (Store.ingest through ingestAvailable), or the plain insert.
const CHILD = `
const [mode, file, storeDir] = process.argv.slice(2)
const {openStore} = await import(${JSON.stringify(join(repo, 'dist/core/store/open.js'))})
const {ingestAvailable} = await import(${JSON.stringify(join(repo, 'dist/core/store/ingest.js'))})
const store = await openStore(storeDir)
store.createRun({id: 'bench00001', name: 'bench', task: 'image-classification', host: 'h', config: {name: 'bench'}, primaryMetric: 'val/acc', primaryGoal: 'max'}, 1)
store.close()
const start = process.hrtime.bigint()
if (mode === 'mlx') {
  const again = await openStore(storeDir)
  ingestAvailable(again, 'bench00001', file, true)
  again.close()
} else {
  const {readFileSync} = await import('node:fs')
  const {default: Database} = await import(${JSON.stringify(join(repo, 'node_modules/better-sqlite3/lib/index.js'))})
  const db = new Database(storeDir + '/mlx.db')
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  const insert = db.prepare('INSERT INTO metrics (run, line, key, step, epoch, t, value) VALUES (?, ?, ?, ?, ?, ?, ?)')
  const keyIds = new Map()
  const keyOf = (name) => {
    let id = keyIds.get(name)
    if (id === undefined) {
      db.prepare('INSERT OR IGNORE INTO metric_keys (name) VALUES (?)').run(name)
      id = db.prepare('SELECT id FROM metric_keys WHERE name = ?').pluck().get(name)
      keyIds.set(name, id)
    }
    return id
  }
  db.transaction(() => {
    let line = 0
    for (const text of readFileSync(file, 'utf8').split('\\n')) {
      line++
      if (!text) continue
      const record = JSON.parse(text)
      if (record.kind !== 'metrics') continue
      for (const [key, value] of Object.entries(record.values)) insert.run(1, line, keyOf(key), record.step, record.epoch, record.t, value)
    }
  })()
  db.close()
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9
console.log(JSON.stringify({seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024}))
`

const folder = mkdtempSync(join(tmpdir(), 'mlx-ingest-'))
const child = join(folder, 'child.mjs')
writeFileSync(child, CHILD)
const measure = (mode, file) => {
  const storeDir = join(folder, `store-${mode}-${Math.random().toString(36).slice(2)}`)
  const result = JSON.parse(execFileSync('node', [child, mode, file, storeDir], {encoding: 'utf8', cwd: repo}))
  rmSync(storeDir, {recursive: true, force: true})
  return result
}
const file = join(folder, 'metrics.jsonl')
writeMetrics(file, rows)
const timings = {mlx: [], plain: []}
for (let round = 0; round < rounds; round++) {
  for (const mode of round % 2 === 0 ? ['mlx', 'plain'] : ['plain', 'mlx']) timings[mode].push(measure(mode, file))
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const mlxSeconds = median(timings.mlx.map((t) => t.seconds))
const plainSeconds = median(timings.plain.map((t) => t.seconds))
const ratios = timings.mlx.map((t, i) => t.seconds / timings.plain[i].seconds)
const ratio = median(ratios)
const mlxRss = median(timings.mlx.map((t) => t.maxRssMiB))

const backlog = join(folder, 'backlog.jsonl')
writeMetrics(backlog, rows * 10)
const big = measure('mlx', backlog)
// Bounded: ten times the backlog, not ten times the memory (a little more, as V8 collects when it likes).
const bounded = big.maxRssMiB <= mlxRss * 1.5
rmSync(folder, {recursive: true, force: true})

const rate = (seconds, count) => `${Math.round(count / seconds / 1000)}k rows/s`
console.log('## Ingesting metrics.jsonl (bench/ingest.mjs)')
console.log()
console.log(
  `A metrics.jsonl of ${rows.toLocaleString('en')} metric rows (lines of ten values, an event every 100 lines,`,
)
console.log(
  `${(rows / 10).toLocaleString('en')} lines), ingested by mlx (Store.ingest through ingestAvailable, 1 MiB batches) and by a plain`,
)
console.log(
  'better-sqlite3 insert of the same rows (JSON.parse of each line, one prepared statement, one transaction, the',
)
console.log(
  `same table and index), each in a fresh child process, alternated, ${rounds} rounds; the ratio is the median of the`,
)
console.log(
  `rounds' ratios. Memory: the peak RSS of the child, for the same rows and for a backlog of ${(rows * 10).toLocaleString('en')}.`,
)
console.log()
console.log('| measure | value | goal | met |')
console.log('|---|---:|---:|:---:|')
console.log(`| plain better-sqlite3 insert | ${plainSeconds.toFixed(2)} s (${rate(plainSeconds, rows)}) | | |`)
console.log(`| mlx ingest | ${mlxSeconds.toFixed(2)} s (${rate(mlxSeconds, rows)}) | | |`)
console.log(
  `| mlx over plain | ${ratio.toFixed(2)}x (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')}) | <= 1.25x | ${ratio <= 1.25 ? 'yes' : '**no**'} |`,
)
console.log(
  `| peak memory, ${rows.toLocaleString('en')} rows | ${mlxRss.toFixed(0)} MiB (plain insert: ${median(timings.plain.map((t) => t.maxRssMiB)).toFixed(0)} MiB, reading the file whole) | | |`,
)
console.log(
  `| peak memory, ${(rows * 10).toLocaleString('en')} rows of backlog | ${big.maxRssMiB.toFixed(0)} MiB (${rate(big.seconds, rows * 10)}) | bounded | ${bounded ? 'yes' : '**no**'} |`,
)
