#!/usr/bin/env node
// Seeds a project whose store holds RUNS runs (default 10,000), each with a config of 20
// params and 10 metrics logged at 1,000 steps: 10^8 metric rows at the defaults. Usage:
//   node bench/seed-store.mjs DIR [RUNS] [STEPS]
// The schema comes from mlx itself (openStore runs its migrations); runs and their params
// are written as Store.createRun writes them. Metric rows are generated inside SQLite and
// their summaries computed from them in SQL, as ingestion would have kept them: feeding
// 10^8 values through Store.ingest would take the better part of an hour, and ingestion
// has its own tests.
// A store already seeded with the same sizes is kept (seeding 10^8 rows takes minutes).
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = fileURLToPath(new URL('..', import.meta.url))
const [dir, runsArg = '10000', stepsArg = '1000'] = process.argv.slice(2)
if (!dir) {
  console.error('usage: node bench/seed-store.mjs DIR [RUNS] [STEPS]')
  process.exit(2)
}
const runCount = Number(runsArg)
const steps = Number(stepsArg)
const marker = join(dir, '.seeded')
const sizes = JSON.stringify({runCount, steps})
if (existsSync(marker) && readFileSync(marker, 'utf8') === sizes) {
  console.error(`seed-store: ${dir} already holds ${runCount} runs x ${steps} steps`)
  process.exit(0)
}
if (existsSync(join(dir, '.mlx'))) {
  console.error(`seed-store: ${dir}/.mlx exists with other sizes; remove it first`)
  process.exit(2)
}
mkdirSync(dir, {recursive: true})
writeFileSync(join(dir, 'mlx.yaml'), '# a project seeded by bench/seed-store.mjs\n')

const {openStore} = await import(join(repo, 'dist/core/store/open.js'))
const {flattenParams} = await import(join(repo, 'dist/core/config/params.js'))
const store = await openStore(join(dir, '.mlx'))
store.close()
const {default: Database} = await import('better-sqlite3')
const db = new Database(join(dir, '.mlx', 'mlx.db'))
db.pragma('journal_mode = WAL')
db.pragma('synchronous = OFF')
db.pragma('cache_size = -262144')

const METRICS = [
  'train/loss',
  'train/acc',
  'train/grad_norm',
  'lr',
  'val/loss',
  'val/acc',
  'val/f1',
  'perf/step_time',
  'perf/samples_per_s',
  'perf/eval_time',
]
const insertKey = db.prepare('INSERT INTO metric_keys (name) VALUES (?)')
for (const name of METRICS) insertKey.run(name)

const OPTIMIZERS = ['sgd', 'adam', 'adamw']
const SCHEDULERS = ['none', 'step', 'cosine', 'onecycle']
function configOf(i) {
  return {
    task: 'image-classification',
    name: `sweep-${i % 500}-lr${(i % 37) + 1}`,
    seed: i,
    tags: i % 10 === 0 ? ['baseline'] : ['sweep'],
    data: {name: 'digits', batch_size: [32, 64, 128][i % 3], val_fraction: 0.2, num_workers: 0, augment: i % 2 === 0},
    model: {name: 'cnn', channels: [16, 32], hidden: [64, 128, 256][i % 3], dropout: (i % 5) / 10},
    optim: {
      name: OPTIMIZERS[i % 3],
      lr: Number((0.0005 * ((i % 37) + 1)).toFixed(4)),
      weight_decay: [0, 1e-4, 5e-4][i % 3],
      momentum: 0.9,
    },
    scheduler: {name: SCHEDULERS[i % 4], warmup_steps: (i % 4) * 50, gamma: 0.5},
    train: {
      epochs: 10,
      max_steps: steps,
      grad_clip: i % 2 === 0 ? 1 : null,
      accumulate: 1 + (i % 2),
      amp: false,
      label_smoothing: (i % 3) / 20,
    },
    device: 'cpu',
  }
}

const insertRun = db.prepare(`
  INSERT INTO runs (seq, id, name, task, status, created_at, ended_at, exit_code, host, run_dir, config_json, primary_metric, primary_goal, tags_json, lines_read)
  VALUES (@seq, @id, @name, 'image-classification', @status, @createdAt, @endedAt, @exitCode, 'bench', @runDir, @config, 'val/acc', 'max', @tags, @steps)`)
const insertParam = db.prepare('INSERT INTO run_params (key, run, value) VALUES (?, ?, ?)')
// Every key at every step, in index order; values shaped like training curves, different per run.
const insertMetrics = db.prepare(`
  WITH RECURSIVE step(s) AS (SELECT 1 UNION ALL SELECT s + 1 FROM step WHERE s < @steps)
  INSERT INTO metrics (run, line, key, step, epoch, t, value)
  SELECT r.seq, step.s, k.id, step.s, step.s * 10.0 / @steps, r.created_at + step.s * 0.05,
    CASE k.name
      WHEN 'train/acc' THEN 1.0 - 0.9 / (1 + step.s * (0.002 + (r.seq % 97) * 0.0001))
      WHEN 'val/acc' THEN 0.98 - 0.88 / (1 + step.s * (0.002 + (r.seq % 89) * 0.0001)) + ((step.s * 7919 + r.seq) % 101) / 10000.0
      WHEN 'val/f1' THEN 0.97 - 0.87 / (1 + step.s * (0.002 + (r.seq % 83) * 0.0001))
      WHEN 'lr' THEN 0.001 * (1.0 - step.s * 1.0 / (@steps + 1))
      WHEN 'perf/step_time' THEN 0.006 + ((step.s * 31 + r.seq) % 17) / 10000.0
      WHEN 'perf/samples_per_s' THEN 9000 + ((step.s * 13 + r.seq) % 997)
      WHEN 'perf/eval_time' THEN 0.1 + (r.seq % 11) / 100.0
      ELSE 2.3 / (1 + step.s * (0.002 + (r.seq % 71) * 0.0001)) + ((step.s * 104729 + r.seq) % 53) / 1000.0
    END
  FROM runs r JOIN metric_keys k JOIN step
  WHERE r.seq BETWEEN @first AND @last
  ORDER BY r.seq, k.id, step.s`)
// SQLite's bare columns: with MIN() or MAX() alone in the select, step comes from that row.
const insertSummaries = db.prepare(`
  INSERT INTO metric_summary (run_id, key, count, last, last_step, min, min_step, max, max_step)
  SELECT r.id, k.name, c.count, l.value, l.step, mn.value, mn.step, mx.value, mx.step
  FROM runs r JOIN metric_keys k
  JOIN (SELECT run, key, COUNT(*) AS count FROM metrics WHERE run BETWEEN @first AND @last GROUP BY run, key) c ON c.run = r.seq AND c.key = k.id
  JOIN (SELECT run, key, value, MAX(step) AS step FROM metrics WHERE run BETWEEN @first AND @last GROUP BY run, key) l ON l.run = r.seq AND l.key = k.id
  JOIN (SELECT run, key, MIN(value) AS value, step FROM metrics WHERE run BETWEEN @first AND @last GROUP BY run, key) mn ON mn.run = r.seq AND mn.key = k.id
  JOIN (SELECT run, key, MAX(value) AS value, step FROM metrics WHERE run BETWEEN @first AND @last GROUP BY run, key) mx ON mx.run = r.seq AND mx.key = k.id
  WHERE r.seq BETWEEN @first AND @last`)

const started = Date.now()
const createdBase = Date.parse('2026-06-01T00:00:00Z') / 1000
const batchSize = 250
for (let first = 1; first <= runCount; first += batchSize) {
  const last = Math.min(runCount, first + batchSize - 1)
  db.transaction(() => {
    for (let i = first; i <= last; i++) {
      const config = configOf(i)
      const id =
        ((BigInt(i) * 2654435761n) % 4294967296n).toString(16).padStart(8, '0') + i.toString(16).padStart(4, '0')
      const createdAt = createdBase + i * 600
      const failed = i % 50 === 0
      insertRun.run({
        seq: i,
        id,
        name: config.name,
        status: failed ? 'failed' : 'completed',
        createdAt,
        endedAt: createdAt + 60 + (i % 300),
        exitCode: failed ? 1 : 0,
        runDir: join(dir, '.mlx', 'runs', id),
        config: JSON.stringify(config),
        tags: JSON.stringify(config.tags),
        steps,
      })
      for (const [key, value] of Object.entries(flattenParams(config)))
        insertParam.run(key, i, JSON.stringify(value ?? null))
    }
    insertMetrics.run({first, last, steps})
    insertSummaries.run({first, last})
  })()
  if (last % 1000 === 0 || last === runCount)
    console.error(`seed-store: ${last}/${runCount} runs, ${((Date.now() - started) / 1000).toFixed(0)} s`)
}
db.pragma('wal_checkpoint(TRUNCATE)')
const rows = db.prepare('SELECT COUNT(*) FROM metrics').pluck().get()
db.close()
writeFileSync(marker, sizes)
console.error(`seed-store: ${runCount} runs, ${rows} metric rows in ${((Date.now() - started) / 1000).toFixed(0)} s`)
