/**
 * The SQLite index of runs (`<store>/mlx.db`). The run directories are the source of
 * truth; this is the index that makes listing and comparing fast. Per-run metric
 * summaries (count, last, min, max and their steps) are kept up to date at ingestion,
 * so listing and comparing never scan metric history.
 *
 * Every change to a run's row is written to its run.json too, and paths in the index are
 * relative to the store: the index can be rebuilt from the run directories (store/rebuild.ts)
 * and a copied or moved store works on its own files.
 *
 * Ingestion is crash-safe: the metric rows of a batch of lines and the byte offset
 * after them commit in one transaction, so a restart resumes exactly where the last
 * commit ended and no line is stored twice or lost.
 *
 * better-sqlite3 is imported lazily (in open.ts's `openStore`): commands that do not touch the
 * store do not pay for it.
 */
import {mkdirSync} from 'node:fs'
import {hostname} from 'node:os'
import {join} from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import {excerpt, StoreError, UserError} from '../errors.js'
import {parseMetricsLine, type EventRecord, type MetricsRecord} from '../metrics/parse.js'
import type {TailLine} from '../metrics/tail.js'
import {flattenParams} from '../config/params.js'
import {writeRunFile} from './run-file.js'
import {RUN_STATUSES, type RunKind, type RunStatus} from './status.js'

export {RUN_STATUSES, type RunKind, type RunStatus}

export interface IngestCounters {
  /** Lines read from metrics.jsonl so far (good and bad). */
  lines: number
  /** Lines that were not valid records (corrupt JSON, unknown kind...), skipped. */
  badLines: number
  /** A last line cut off mid-write when the trainer ended, skipped. */
  tornLines: number
  /** Values inside good lines that were not numbers, skipped. */
  skippedValues: number
  /** The latest problem, as `line N: problem`. */
  lastProblem: string | null
}

/** What a run is at a glance: enough to list it, filter it by its builtin fields, and time it. */
export interface RunBrief {
  id: string
  name: string
  task: string
  status: RunStatus
  createdAt: number
  endedAt: number | null
  primaryMetric: string
  primaryGoal: 'min' | 'max' | null
  tags: string[]
  notes: RunNote[]
}

/** An event a run's script logged: its line in metrics.jsonl, its time, its name and fields. */
export interface StoredEvent {
  line: number
  t: number
  event: string
  data: Record<string, unknown>
}

/** A note added to a run after the fact (mlx note): when (seconds since the epoch), and its text. */
export interface RunNote {
  at: number
  text: string
}

export interface RunRecord extends RunBrief {
  exitCode: number | null
  signal: string | null
  pid: number | null
  host: string
  runDir: string
  config: Record<string, unknown>
  /** The tail of the trainer's stderr when it failed, or why mlx stopped it. */
  error: string | null
  ingest: IngestCounters
  launch: RunLaunch
  /** When mlx stop asked the run to stop (seconds since the epoch), else null. */
  stopRequestedAt: number | null
  /** The Slurm job that runs it, where a scheduler does. */
  jobId: string | null
  /** The mlx process that follows the run while it runs (its claim on the run), else null. */
  follower: RunFollower | null
  /** The sweep trial this run is (mlx sweep), else null. */
  trial: TrialTag | null
  kind: RunKind
}

/** A sweep's run: its sweep, its trial (one configuration), and the seed and fold it repeats that configuration with. */
export interface TrialTag {
  sweep: string
  number: number
  seed: number | null
  fold: number | null
}

export interface RunFollower {
  pid: number
  host: string
}

/** How a run's processes were started: the launcher, and for torchrun the processes in all and the nodes. */
export interface RunLaunch {
  launcher: string
  worldSize: number
  nodes: number
}

export interface NewRun {
  id: string
  name: string
  task: string
  host: string
  config: Record<string, unknown>
  primaryMetric: string
  primaryGoal: 'min' | 'max' | null
  trial?: TrialTag | null
  kind?: RunKind
}

/** A run as its run.json recorded it: what the index needs to hold it again (store/rebuild.ts). */
export interface RecoveredRun extends NewRun {
  status: RunStatus
  createdAt: number
  endedAt: number | null
  exitCode: number | null
  signal: string | null
  pid: number | null
  error: string | null
  tags: string[]
  notes: RunNote[]
  launch: RunLaunch
  stopRequestedAt: number | null
  jobId: string | null
  trial: TrialTag | null
}

export interface MetricSummary {
  key: string
  count: number
  last: number | null
  lastStep: number
  min: number | null
  minStep: number | null
  max: number | null
  maxStep: number | null
}

export interface StoredMetric {
  line: number
  key: string
  step: number
  epoch: number | null
  t: number
  value: number | null
}

export interface IngestBatch {
  records: Array<MetricsRecord | EventRecord>
  counters: IngestCounters
}

/** A complete line of metrics.jsonl and the byte offset just after it. */
interface RunRow {
  seq: number
  id: string
  name: string
  task: string
  status: RunStatus
  created_at: number
  ended_at: number | null
  exit_code: number | null
  signal: string | null
  pid: number | null
  host: string
  run_dir: string
  config_json: string
  primary_metric: string
  primary_goal: 'min' | 'max' | null
  error: string | null
  ingest_offset: number
  lines_read: number
  bad_lines: number
  torn_lines: number
  skipped_values: number
  last_problem: string | null
  attempt_line: number
  tags_json: string
  notes_json: string
  launcher: string
  world_size: number
  nodes: number
  job_id: string | null
  stop_requested_at: number | null
  follower_pid: number | null
  follower_host: string | null
  sweep: string | null
  trial: number | null
  trial_seed: number | null
  trial_fold: number | null
  kind: RunKind
}

export class Store {
  private readonly insertMetric: BetterSqlite3.Statement
  private readonly upsertSummary: BetterSqlite3.Statement
  private readonly insertEvent: BetterSqlite3.Statement
  private readonly deleteMetricsAfter: BetterSqlite3.Statement
  private readonly keyIds = new Map<string, number>()

  /**
   * @param readOnly why the store's files cannot be written, or null: a read-only store is read
   *   from a copy of its index in memory, and nothing here writes its run files.
   */
  constructor(
    private readonly db: BetterSqlite3.Database,
    readonly dir: string,
    readonly readOnly: string | null,
  ) {
    this.insertMetric = db.prepare(
      'INSERT INTO metrics (run, line, key, step, epoch, t, value) VALUES (?, ?, ?, ?, ?, ?, ?)',
    )
    // Right-hand sides read the row as it was before the update (SQL semantics), and
    // NaN arrives as NULL, which never wins min or max.
    // One row per metric and batch of lines: the batch's own summary (summarise() below) merged in.
    this.upsertSummary = db.prepare(`
      INSERT INTO metric_summary (run_id, key, count, last, last_step, min, min_step, max, max_step)
      VALUES (@run, @key, @count, @last, @lastStep, @min, @minStep, @max, @maxStep)
      ON CONFLICT (key, run_id) DO UPDATE SET
        count = count + excluded.count,
        last = excluded.last,
        last_step = excluded.last_step,
        min_step = CASE WHEN excluded.min IS NOT NULL AND (min IS NULL OR excluded.min < min) THEN excluded.min_step ELSE min_step END,
        min = CASE WHEN excluded.min IS NOT NULL AND (min IS NULL OR excluded.min < min) THEN excluded.min ELSE min END,
        max_step = CASE WHEN excluded.max IS NOT NULL AND (max IS NULL OR excluded.max > max) THEN excluded.max_step ELSE max_step END,
        max = CASE WHEN excluded.max IS NOT NULL AND (max IS NULL OR excluded.max > max) THEN excluded.max ELSE max END`)
    this.insertEvent = db.prepare('INSERT INTO events (run_id, line, t, event, data_json) VALUES (?, ?, ?, ?, ?)')
    this.deleteMetricsAfter = db.prepare('DELETE FROM metrics WHERE run = ? AND step > ?')
  }

  close(): void {
    this.db.close()
  }

  runDir(id: string): string {
    return join(this.dir, RUNS_DIR, id)
  }

  /** A new run and its params, together or not at all; its directory made; followed by this mlx process. */
  createRun(run: NewRun, createdAt: number): void {
    mkdirSync(this.runDir(run.id), {recursive: true})
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO runs (id, name, task, status, created_at, host, run_dir, config_json, primary_metric, primary_goal, tags_json, follower_pid, follower_host,
             sweep, trial, trial_seed, trial_fold, kind)
           VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          run.id,
          run.name,
          run.task,
          createdAt,
          run.host,
          `${RUNS_DIR}/${run.id}`,
          JSON.stringify(run.config),
          run.primaryMetric,
          run.primaryGoal,
          JSON.stringify(tagsOf(run.config)),
          process.pid,
          hostname(),
          ...trialColumns(run.trial ?? null),
          run.kind ?? 'train',
        )
      this.writeParams(run.id, run.config)
    })()
    this.syncRunFile(run.id)
  }

  /**
   * A run that its run.json describes, back in the index (store/rebuild.ts), unless another mlx
   * put it there first: true when this call did. Its metrics are ingested after, from offset 0,
   * and then its attempt line set (setAttemptLine).
   */
  recoverRun(run: RecoveredRun): boolean {
    return this.db
      .transaction(() => {
        const inserted = this.db
          .prepare(
            `INSERT OR IGNORE INTO runs (id, name, task, status, created_at, ended_at, exit_code, signal, pid, host, run_dir, config_json, primary_metric, primary_goal, error,
             tags_json, notes_json, launcher, world_size, nodes, job_id, stop_requested_at, sweep, trial, trial_seed, trial_fold, kind)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            run.id,
            run.name,
            run.task,
            run.status,
            run.createdAt,
            run.endedAt,
            run.exitCode,
            run.signal,
            run.pid,
            run.host,
            `${RUNS_DIR}/${run.id}`,
            JSON.stringify(run.config),
            run.primaryMetric,
            run.primaryGoal,
            run.error,
            JSON.stringify(run.tags),
            JSON.stringify(run.notes),
            run.launch.launcher,
            run.launch.worldSize,
            run.launch.nodes,
            run.jobId,
            run.stopRequestedAt,
            ...trialColumns(run.trial),
            run.kind ?? 'train',
          )
        if (inserted.changes === 0) return false
        this.writeParams(run.id, run.config)
        return true
      })
      .immediate()
  }

  /** The run's params as its config now has them (the caller holds a transaction). */
  private writeParams(id: string, config: Record<string, unknown>): void {
    const seq = this.db.prepare('SELECT seq FROM runs WHERE id = ?').pluck().get(id) as number
    this.db.prepare('DELETE FROM run_params WHERE run = ?').run(seq)
    const insert = this.db.prepare('INSERT INTO run_params (key, run, value) VALUES (?, ?, ?)')
    for (const [key, value] of Object.entries(flattenParams(config)))
      insert.run(key, seq, JSON.stringify(value ?? null))
  }

  /**
   * A stopped run starts a new attempt (mlx resume) with its config as now resolved: running
   * again on this host, followed by this mlx, its outcome cleared. The claim is atomic: of two
   * mlx resuming one run at once, one gets it and the other a UserError naming the holder.
   */
  restartRun(id: string, config: Record<string, unknown>): void {
    this.db
      .transaction(() => {
        const claimed = this.db
          .prepare(
            "UPDATE runs SET status = 'running', ended_at = NULL, exit_code = NULL, signal = NULL, error = NULL, pid = NULL, job_id = NULL, stop_requested_at = NULL, attempt_line = lines_read, config_json = ?, host = ?, follower_pid = ?, follower_host = ? WHERE id = ? AND status != 'running'",
          )
          .run(JSON.stringify(config), hostname(), process.pid, hostname(), id)
        if (claimed.changes === 0) {
          const holder = this.getRun(id)
          if (!holder) throw new UserError(`no run ${id} in the store`)
          throw new UserError(
            `run ${id} is already running${describeFollower(holder)}`,
            'a run trains in one place at a time: wait for it to end, or mlx stop it first',
          )
        }
        this.writeParams(id, config)
      })
      .immediate()
    this.syncRunFile(id)
  }

  setTags(id: string, tags: readonly string[]): void {
    this.db.prepare('UPDATE runs SET tags_json = ? WHERE id = ?').run(JSON.stringify([...new Set(tags)]), id)
    this.syncRunFile(id)
  }

  /** Adds a note to the run; returns its notes. */
  addNote(id: string, text: string, at = Date.now() / 1000): RunNote[] {
    const notes = this.db.transaction(() => {
      const current = JSON.parse(
        this.db.prepare('SELECT notes_json FROM runs WHERE id = ?').pluck().get(id) as string,
      ) as RunNote[]
      const next = [...current, {at, text}]
      this.db.prepare('UPDATE runs SET notes_json = ? WHERE id = ?').run(JSON.stringify(next), id)
      return next
    })()
    this.syncRunFile(id)
    return notes
  }

  rename(id: string, name: string): void {
    this.db.prepare('UPDATE runs SET name = ? WHERE id = ?').run(name, id)
    this.syncRunFile(id)
  }

  /** Removes a run's rows (metrics, summaries and events go with it); the caller removes its directory. */
  deleteRun(id: string): void {
    this.db.prepare('DELETE FROM runs WHERE id = ?').run(id)
  }

  /** What identifies the run's process: its pid here, or its scheduler's job id. */
  setProcess(id: string, ref: {pid: number | null; jobId: string | null}): void {
    this.db.prepare('UPDATE runs SET pid = ?, job_id = ? WHERE id = ?').run(ref.pid, ref.jobId, id)
    this.syncRunFile(id)
  }

  setLaunch(id: string, launch: RunLaunch): void {
    this.db
      .prepare('UPDATE runs SET launcher = ?, world_size = ?, nodes = ? WHERE id = ?')
      .run(launch.launcher, launch.worldSize, launch.nodes, id)
  }

  /** mlx stop: the time it asked; the follower then records the run as interrupted. */
  requestStop(id: string, at: number): void {
    this.db.prepare('UPDATE runs SET stop_requested_at = ? WHERE id = ?').run(at, id)
    this.syncRunFile(id)
  }

  /** How the run ended; its follower's claim ends with it. */
  finishRun(
    id: string,
    outcome: {status: RunStatus; endedAt: number; exitCode: number | null; signal: string | null; error: string | null},
  ): void {
    this.db
      .prepare(
        'UPDATE runs SET status = ?, ended_at = ?, exit_code = ?, signal = ?, error = ?, follower_pid = NULL, follower_host = NULL WHERE id = ?',
      )
      .run(outcome.status, outcome.endedAt, outcome.exitCode, outcome.signal, outcome.error, id)
    this.syncRunFile(id)
  }

  /** A trial its sweep stopped early: the run mlx interrupted is recorded as pruned. */
  markPruned(id: string): void {
    this.db.prepare("UPDATE runs SET status = 'pruned' WHERE id = ? AND status = 'interrupted'").run(id)
    this.syncRunFile(id)
  }

  /** A sweep's runs, by trial number and then as they were made. */
  sweepRuns(sweep: string): RunRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM runs WHERE sweep = ? ORDER BY trial, created_at, seq')
      .all(sweep) as RunRow[]
    return rows.map((row) => this.toRecord(row))
  }

  /** The names of the sweeps that have runs here, the newest first. */
  sweepNames(): string[] {
    return this.db
      .prepare('SELECT sweep FROM runs WHERE sweep IS NOT NULL GROUP BY sweep ORDER BY max(created_at) DESC')
      .pluck()
      .all() as string[]
  }

  /** The run's run.json, rewritten from its row (a read-only store writes nothing; a directory removed by hand is left removed). */
  syncRunFile(id: string): void {
    if (this.readOnly !== null) return
    const record = this.getRun(id)
    if (!record) return
    try {
      writeRunFile(record)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return
      throw new StoreError(
        `cannot write ${join(record.runDir, 'run.json')} (${code ?? (error as Error).message})`,
        'free some disk space, or check that the store may be written; the index holds the change meanwhile',
      )
    }
  }

  /**
   * Where the run's current attempt began, for a run indexed from its files: before its last
   * `resume` event of mlx resume (a torchrun restart within an attempt logs one with `restart` > 0).
   */
  setAttemptLine(id: string): void {
    const resumed = this.events(id)
      .filter((event) => event.event === 'resume' && !event.data.restart)
      .at(-1)
    this.db.prepare('UPDATE runs SET attempt_line = ? WHERE id = ?').run(resumed ? resumed.line - 1 : 0, id)
  }

  /** A fact about the store (store_meta), or undefined. */
  meta(key: string): string | undefined {
    return (
      (this.db.prepare('SELECT value FROM store_meta WHERE key = ?').pluck().get(key) as string | undefined) ??
      undefined
    )
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value)
  }

  /** How many runs the index holds. */
  runCount(): number {
    return this.db.prepare('SELECT COUNT(*) FROM runs').pluck().get() as number
  }

  /** SQLite's own check of the index file (`PRAGMA quick_check`): 'ok', or what is wrong. */
  check(): string[] {
    return this.db.prepare('PRAGMA quick_check').pluck().all() as string[]
  }

  /** Where ingestion of this run's metrics.jsonl stopped: resume reading here. */
  ingestOffset(id: string): number {
    const row = this.db.prepare('SELECT ingest_offset FROM runs WHERE id = ?').get(id) as
      {ingest_offset: number} | undefined
    return row?.ingest_offset ?? 0
  }

  /**
   * Stores complete lines of metrics.jsonl, read from byte `fromOffset` on, in one
   * transaction with the offset after the last of them. `tornTail` is a final partial
   * line (the trainer ended mid-write): counted and skipped, and the offset moves past
   * it. When another process has ingested from `fromOffset` meanwhile, nothing is
   * stored and the result is null: two followers of one run never store a line twice.
   */
  ingest(
    id: string,
    fromOffset: number,
    lines: readonly TailLine[],
    tornTail?: {endOffset: number},
  ): IngestBatch | null {
    const records: Array<MetricsRecord | EventRecord> = []
    const batch = this.db.transaction((): IngestBatch | null => {
      const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined
      if (!row) throw new Error(`no run ${id} in the store`)
      if (row.ingest_offset !== fromOffset) return null
      const counters = countersOf(row)
      let offset = row.ingest_offset
      let summariesStale = false
      const batchSummaries = new Map<string, BatchSummary>()
      for (const line of lines) {
        offset = line.endOffset
        // A blank line holds nothing, and is no line of its own: it is the newline that ended a torn line
        // (below), which a reader that had already passed the torn line's bytes sees alone.
        if (line.text.trim() === '') continue
        counters.lines++
        if (line.text.startsWith(TORN_MARK)) {
          counters.tornLines++
          counters.lastProblem = `line ${counters.lines}: torn (cut off mid-write), skipped`
          continue
        }
        const parsed = parseMetricsLine(line.text)
        if (!parsed.ok) {
          counters.badLines++
          counters.lastProblem = `line ${counters.lines}: ${parsed.problem}`
          continue
        }
        const record = parsed.record
        records.push(record)
        if (record.kind === 'metrics') {
          counters.skippedValues += record.skipped
          for (const {key, value} of record.values) {
            const stored = Number.isNaN(value) ? null : value
            this.insertMetric.run(row.seq, counters.lines, this.keyId(key), record.step, record.epoch, record.t, stored)
            summarise(batchSummaries, key, stored, record.step)
          }
        } else {
          this.insertEvent.run(id, counters.lines, record.t, record.event, JSON.stringify(record.data))
          const fromStep = record.data.from_step
          if (record.event === 'resume' && Number.isInteger(fromStep)) {
            this.deleteMetricsAfter.run(row.seq, fromStep)
            summariesStale = true
          }
        }
      }
      // A resume dropped rows: every summary is recomputed from the rows that remain.
      if (summariesStale) this.rebuildSummaries(row)
      else for (const [key, summary] of batchSummaries) this.upsertSummary.run({run: id, key, ...summary})
      if (tornTail) {
        counters.lines++
        counters.tornLines++
        counters.lastProblem = `line ${counters.lines}: torn (cut off mid-write), skipped`
        offset = tornTail.endOffset
      }
      this.db
        .prepare(
          'UPDATE runs SET ingest_offset = ?, lines_read = ?, bad_lines = ?, torn_lines = ?, skipped_values = ?, last_problem = ? WHERE id = ?',
        )
        .run(
          offset,
          counters.lines,
          counters.badLines,
          counters.tornLines,
          counters.skippedValues,
          counters.lastProblem,
          id,
        )
      return {records, counters}
    })
    try {
      return batch.immediate()
    } catch (error) {
      // Keys created in the rolled-back transaction are gone from the table.
      this.keyIds.clear()
      throw error
    }
  }

  /**
   * Recomputes a run's metric summaries from its rows, after a `resume` event dropped the
   * values logged past the checkpoint it resumed from.
   */
  private rebuildSummaries(run: RunRow): void {
    this.db.prepare('DELETE FROM metric_summary WHERE run_id = ?').run(run.id)
    this.db
      .prepare(
        `INSERT INTO metric_summary (run_id, key, count, last, last_step, min, min_step, max, max_step)
         SELECT @id, k.name, COUNT(*),
           (SELECT value FROM metrics x WHERE x.run = m.run AND x.key = m.key ORDER BY line DESC, rowid DESC LIMIT 1),
           (SELECT step FROM metrics x WHERE x.run = m.run AND x.key = m.key ORDER BY line DESC, rowid DESC LIMIT 1),
           MIN(m.value),
           (SELECT step FROM metrics x WHERE x.run = m.run AND x.key = m.key AND x.value IS NOT NULL ORDER BY value ASC, line ASC LIMIT 1),
           MAX(m.value),
           (SELECT step FROM metrics x WHERE x.run = m.run AND x.key = m.key AND x.value IS NOT NULL ORDER BY value DESC, line ASC LIMIT 1)
         FROM metrics m JOIN metric_keys k ON k.id = m.key WHERE m.run = @seq GROUP BY m.key`,
      )
      .run({id: run.id, seq: run.seq})
  }

  /** The integer a metric name is stored as, created on first use. */
  private keyId(name: string): number {
    let id = this.keyIds.get(name)
    if (id === undefined) {
      this.db.prepare('INSERT OR IGNORE INTO metric_keys (name) VALUES (?)').run(name)
      id = this.db.prepare('SELECT id FROM metric_keys WHERE name = ?').pluck().get(name) as number
      this.keyIds.set(name, id)
    }
    return id
  }

  getRun(id: string): RunRecord | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined
    return row && this.toRecord(row)
  }

  /** Where the store tells the person at the terminal what it chose for them (withRuns: stderr). */
  notice: (line: string) => void = () => {}

  /**
   * A run by id, name, or unique id prefix, in that order (a name is what a person typed on purpose; a
   * prefix may match a random id by chance). A name several runs share (every run of a config gets
   * its name) means the newest of them, and the store says which (`notice`); with `names: 'unique'`
   * (for what cannot be undone) it is refused, the runs listed.
   */
  resolveRun(ref: string, names: 'newest' | 'unique' = 'newest'): RunRecord {
    const exact = this.getRun(ref)
    if (exact) return exact
    // Ids are short: a longer reference is no prefix of one (and SQLite refuses long patterns).
    const byPrefix =
      ref.length > MAX_ID_LENGTH
        ? []
        : (this.db
            .prepare("SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY created_at DESC")
            .all(`${escapeLike(ref)}%`) as RunRow[])
    // A name before an id prefix: `mlx rm a` means the run named a, not another whose random id starts with a.
    const byName = this.db
      .prepare(`SELECT * FROM runs WHERE name = ? ORDER BY created_at DESC LIMIT ${NAMESAKES_LISTED + 1}`)
      .all(ref) as RunRow[]
    if (byName.length > 0 && byPrefix.length > 0)
      this.notice(
        `mlx: ${JSON.stringify(excerpt(ref))} is a run's name and the start of the id of ${byPrefix
          .slice(0, 3)
          .map((r) => r.id)
          .join(', ')}${byPrefix.length > 3 ? ` and ${byPrefix.length - 3} more` : ''}: taking the name`,
      )
    if (byName.length === 1) return this.toRecord(byName[0]!)
    if (byName.length > 1) {
      const count = this.db.prepare('SELECT COUNT(*) FROM runs WHERE name = ?').pluck().get(ref) as number
      const listed = byName.slice(0, NAMESAKES_LISTED).map((row) => `${row.id} (${row.status})`)
      const runs = `${listed.join(', ')}${count > NAMESAKES_LISTED ? `, and ${count - NAMESAKES_LISTED} more` : ''}`
      if (names === 'unique')
        throw new UserError(
          `${JSON.stringify(excerpt(ref))} names ${count} runs, newest first: ${runs}`,
          `name the run by its id (or a unique prefix of it); mlx runs --name ${JSON.stringify(excerpt(ref))} lists them`,
        )
      this.notice(`mlx: ${JSON.stringify(excerpt(ref))} names ${count} runs; taking the newest, ${byName[0]!.id}`)
      return this.toRecord(byName[0]!)
    }
    if (byPrefix.length === 1) return this.toRecord(byPrefix[0]!)
    if (byPrefix.length > 1) {
      throw new UserError(
        `run prefix ${JSON.stringify(excerpt(ref))} is ambiguous: ${byPrefix.map((r) => r.id).join(', ')}`,
        'type more characters of the id',
      )
    }
    throw new UserError(
      `no run matches ${JSON.stringify(excerpt(ref))}`,
      '`mlx runs` lists the runs; a run is named by its id, a unique prefix of it, or its name',
    )
  }

  /** Runs, newest first. */
  listRuns(
    filter: {status?: RunStatus[]; name?: string; tags?: string[]; since?: number; limit?: number} = {},
  ): RunRecord[] {
    const {where, params} = runFilter(filter)
    const sql = `SELECT * FROM runs ${where} ORDER BY created_at DESC, rowid DESC ${filter.limit ? 'LIMIT ?' : ''}`
    if (filter.limit) params.push(filter.limit)
    return (this.db.prepare(sql).all(...params) as RunRow[]).map((row) => this.toRecord(row))
  }

  /** Runs by id, in the order given (ids not in the store are left out). */
  runsById(ids: readonly string[]): RunRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM runs WHERE id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(ids)) as RunRow[]
    const byId = new Map(rows.map((row) => [row.id, this.toRecord(row)]))
    return ids.flatMap((id) => byId.get(id) ?? [])
  }

  /**
   * Every run at a glance, newest first, with the store's integer key of each (for paramValues),
   * in pages that grow (64, 128, 256... runs): a reader that stops early reads few rows.
   */
  *briefRunPages(filter: {status?: RunStatus[]; tags?: string[]} = {}): Generator<Array<RunBrief & {seq: number}>> {
    const {where, params} = runFilter(filter)
    const after = `${where ? `${where} AND` : 'WHERE'} (created_at < ? OR (created_at = ? AND seq < ?))`
    const columns =
      'seq, id, name, task, status, created_at, ended_at, primary_metric, primary_goal, tags_json, notes_json'
    const first = this.db
      .prepare(`SELECT ${columns} FROM runs ${where} ORDER BY created_at DESC, seq DESC LIMIT ?`)
      .raw()
    const next = this.db
      .prepare(`SELECT ${columns} FROM runs ${after} ORDER BY created_at DESC, seq DESC LIMIT ?`)
      .raw()
    type BriefRow = [
      number,
      string,
      string,
      string,
      RunStatus,
      number,
      number | null,
      string,
      'min' | 'max' | null,
      string,
      string,
    ]
    let size = FIRST_PAGE_RUNS
    let rows = first.all(...params, size) as BriefRow[]
    while (rows.length > 0) {
      yield rows.map(
        ([seq, id, name, task, status, createdAt, endedAt, primaryMetric, primaryGoal, tagsJson, notesJson]) => ({
          seq,
          id,
          name,
          task,
          status,
          createdAt,
          endedAt,
          primaryMetric,
          primaryGoal,
          // Parsed when read: most filters never look at tags.
          get tags() {
            return JSON.parse(tagsJson) as string[]
          },
          get notes() {
            return JSON.parse(notesJson) as RunNote[]
          },
        }),
      )
      if (rows.length < size) return
      const [lastSeq, , , , , lastCreated] = rows.at(-1)!
      size *= 2
      rows = next.all(...params, lastCreated, lastCreated, lastSeq, size) as BriefRow[]
    }
  }

  /** One param of these runs (by their integer keys, briefRunPages' seq), for those that have it. */
  paramValues(key: string, runs: readonly number[]): Map<number, unknown> {
    const rows = this.db
      .prepare('SELECT run, value FROM run_params WHERE key = ? AND run IN (SELECT value FROM json_each(?))')
      .raw()
      .all(key, JSON.stringify(runs)) as Array<[number, string]>
    return new Map(rows.map(([run, value]) => [run, JSON.parse(value) as unknown]))
  }

  /** Whether any run has this param. */
  hasParam(key: string): boolean {
    return this.db.prepare('SELECT 1 FROM run_params WHERE key = ? LIMIT 1').get(key) !== undefined
  }

  /** Whether any run has logged this metric. */
  hasMetric(key: string): boolean {
    return this.db.prepare('SELECT 1 FROM metric_summary WHERE key = ? LIMIT 1').get(key) !== undefined
  }

  /** Every param key any run has. */
  paramKeys(): string[] {
    return this.db.prepare('SELECT DISTINCT key FROM run_params').pluck().all() as string[]
  }

  /** Every metric key ever logged. */
  metricKeys(): string[] {
    return this.db.prepare('SELECT name FROM metric_keys').pluck().all() as string[]
  }

  /** Every run id in the store (for the shortest unique prefixes). */
  runIds(): string[] {
    return this.db.prepare('SELECT id FROM runs').pluck().all() as string[]
  }

  /** The metric summaries of these runs, sorted by key; only the `keys` named, when given. */
  summaries(runIds: readonly string[], keys?: readonly string[]): Map<string, MetricSummary[]> {
    const result = new Map<string, MetricSummary[]>(runIds.map((id) => [id, []]))
    if (runIds.length === 0 || keys?.length === 0) return result
    const onlyKeys = keys ? 'AND key IN (SELECT value FROM json_each(?))' : ''
    const statement = this.db
      .prepare(`${SUMMARY_SELECT} WHERE run_id IN (SELECT value FROM json_each(?)) ${onlyKeys} ORDER BY key`)
      .raw()
    const rows = (
      keys ? statement.all(JSON.stringify(runIds), JSON.stringify(keys)) : statement.all(JSON.stringify(runIds))
    ) as SummaryRow[]
    for (const row of rows) result.get(row[0])!.push(toSummary(row))
    return result
  }

  /** One metric's summary for those of these runs that logged it, by run id. */
  summariesOfKey(key: string, runIds: readonly string[]): Map<string, MetricSummary> {
    const rows = this.db
      .prepare(`${SUMMARY_SELECT} WHERE key = ? AND run_id IN (SELECT value FROM json_each(?))`)
      .raw()
      .all(key, JSON.stringify(runIds)) as SummaryRow[]
    return new Map(rows.map((row) => [row[0], toSummary(row)]))
  }

  /** One metric's values of a run, in the order of metrics.jsonl. */
  metricValues(runId: string, key: string): StoredMetric[] {
    return this.db
      .prepare(
        'SELECT m.line, k.name AS key, m.step, m.epoch, m.t, m.value FROM metrics m JOIN runs r ON r.seq = m.run JOIN metric_keys k ON k.id = m.key WHERE r.id = ? AND k.name = ? ORDER BY m.line, m.rowid',
      )
      .all(runId, key) as StoredMetric[]
  }

  /** Every stored metric value of a run, in the order of metrics.jsonl. */
  metrics(runId: string): StoredMetric[] {
    return this.db
      .prepare(
        'SELECT m.line, k.name AS key, m.step, m.epoch, m.t, m.value FROM metrics m JOIN runs r ON r.seq = m.run JOIN metric_keys k ON k.id = m.key WHERE r.id = ? ORDER BY m.line, m.rowid',
      )
      .all(runId) as StoredMetric[]
  }

  /** A run's events in file order; with `currentAttempt`, only those since its latest launch or resume. */
  events(runId: string, currentAttempt = false): StoredEvent[] {
    const since = currentAttempt
      ? ((
          this.db.prepare('SELECT attempt_line FROM runs WHERE id = ?').get(runId) as {attempt_line: number} | undefined
        )?.attempt_line ?? 0)
      : 0
    const rows = this.db
      .prepare('SELECT line, t, event, data_json FROM events WHERE run_id = ? AND line > ? ORDER BY line')
      .all(runId, since) as Array<{line: number; t: number; event: string; data_json: string}>
    return rows.map((row) => ({
      line: row.line,
      t: row.t,
      event: row.event,
      data: JSON.parse(row.data_json) as Record<string, unknown>,
    }))
  }
  /** A row as a record; its directory from its path relative to the store. */
  private toRecord(row: RunRow): RunRecord {
    return {
      id: row.id,
      name: row.name,
      task: row.task,
      status: row.status,
      createdAt: row.created_at,
      endedAt: row.ended_at,
      exitCode: row.exit_code,
      signal: row.signal,
      pid: row.pid,
      host: row.host,
      runDir: join(this.dir, row.run_dir),
      config: JSON.parse(row.config_json) as Record<string, unknown>,
      primaryMetric: row.primary_metric,
      primaryGoal: row.primary_goal,
      tags: JSON.parse(row.tags_json) as string[],
      notes: JSON.parse(row.notes_json) as RunNote[],
      error: row.error,
      ingest: countersOf(row),
      launch: {launcher: row.launcher, worldSize: row.world_size, nodes: row.nodes},
      stopRequestedAt: row.stop_requested_at,
      jobId: row.job_id,
      follower:
        row.follower_pid === null || row.follower_host === null
          ? null
          : {pid: row.follower_pid, host: row.follower_host},
      trial:
        row.sweep === null || row.trial === null
          ? null
          : {sweep: row.sweep, number: row.trial, seed: row.trial_seed, fold: row.trial_fold},
      kind: row.kind,
    }
  }
}

function trialColumns(trial: TrialTag | null): [string | null, number | null, number | null, number | null] {
  return trial ? [trial.sweep, trial.number, trial.seed, trial.fold] : [null, null, null, null]
}

/** The first page of briefRunPages: about what `compare --where` needs for its latest 20 or 50 matches. */
const FIRST_PAGE_RUNS = 64

/**
 * The first byte of a line that a kill cut short, as the writer that came after it marks it
 * (mlx_runtime's MetricsWriter): no record starts so, and the line is counted as torn.
 */
const TORN_MARK = '#'

/** Run ids are 10 hex digits; this leaves room for any id an older or newer mlx may give. */
const MAX_ID_LENGTH = 64

/** How many of the runs that share a name an error or a notice lists. */
const NAMESAKES_LISTED = 5

/** Where run directories live in the store. */
export const RUNS_DIR = 'runs'

/** A metric's summary over one batch of lines, merged into its row by one upsert. */
type BatchSummary = Omit<MetricSummary, 'key'>

/** Adds a value to its metric's batch summary: the first of equal extremes keeps its step, as the rows' order does. */
function summarise(summaries: Map<string, BatchSummary>, key: string, value: number | null, step: number): void {
  const summary = summaries.get(key)
  if (!summary) {
    summaries.set(key, {
      count: 1,
      last: value,
      lastStep: step,
      min: value,
      minStep: value === null ? null : step,
      max: value,
      maxStep: value === null ? null : step,
    })
    return
  }
  summary.count++
  summary.last = value
  summary.lastStep = step
  if (value === null) return
  if (summary.min === null || value < summary.min) {
    summary.min = value
    summary.minStep = step
  }
  if (summary.max === null || value > summary.max) {
    summary.max = value
    summary.maxStep = step
  }
}

/** Who follows a running run, as the end of a message. */
function describeFollower(run: RunRecord): string {
  if (!run.follower) return run.pid === null ? '' : ` (its trainer is pid ${run.pid} on ${run.host})`
  return ` (followed by mlx pid ${run.follower.pid} on ${run.follower.host}${run.pid === null ? '' : `; its trainer is pid ${run.pid}`})`
}

const SUMMARY_SELECT = 'SELECT run_id, key, count, last, last_step, min, min_step, max, max_step FROM metric_summary'
type SummaryRow = [
  string,
  string,
  number,
  number | null,
  number,
  number | null,
  number | null,
  number | null,
  number | null,
]

function toSummary([, key, count, last, lastStep, min, minStep, max, maxStep]: SummaryRow): MetricSummary {
  return {key, count, last, lastStep, min, minStep, max, maxStep}
}

function runFilter(filter: {status?: RunStatus[]; name?: string; tags?: string[]; since?: number}): {
  where: string
  params: unknown[]
} {
  const where: string[] = []
  const params: unknown[] = []
  if (filter.status && filter.status.length > 0) {
    where.push(`status IN (${filter.status.map(() => '?').join(', ')})`)
    params.push(...filter.status)
  }
  if (filter.name) {
    where.push('name GLOB ?')
    params.push(filter.name)
  }
  if (filter.since !== undefined) {
    where.push('created_at >= ?')
    params.push(filter.since)
  }
  for (const tag of filter.tags ?? []) {
    where.push('EXISTS (SELECT 1 FROM json_each(tags_json) WHERE value = ?)')
    params.push(tag)
  }
  return {where: where.length ? `WHERE ${where.join(' AND ')}` : '', params}
}

function tagsOf(config: Record<string, unknown>): string[] {
  return Array.isArray(config.tags) ? config.tags.filter((tag): tag is string => typeof tag === 'string') : []
}

function countersOf(row: RunRow): IngestCounters {
  return {
    lines: row.lines_read,
    badLines: row.bad_lines,
    tornLines: row.torn_lines,
    skippedValues: row.skipped_values,
    lastProblem: row.last_problem,
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}
