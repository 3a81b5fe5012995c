/**
 * Opening the store, whatever state it is in:
 *
 * - writable (the usual case): `mlx.db` is opened (made if missing) and migrated, and run
 *   directories the index lacks (a deleted or emptied `mlx.db`, a store copied without it)
 *   are indexed from their run.json, config.json and metrics.jsonl;
 * - read-only (a read-only mount, another user's project): commands that only read get an
 *   in-memory copy of the index (SQLite cannot open a WAL database where it cannot make its
 *   shared-memory file), indexed from the run directories in memory where it lacks runs or is
 *   missing; commands that write are refused with the reason;
 * - damaged (not a database, malformed pages): a StoreError that says `mlx store rebuild`.
 *
 * better-sqlite3 is imported here, lazily: commands that never open the store never load it.
 */
import {accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import {StoreError, UserError} from '../errors.js'
import {MIGRATIONS} from './migrations.js'
import {ingestAvailable} from './ingest.js'
import {indexMissingRuns, type IndexReport} from './rebuild.js'
import {RUNS_DIR, Store, type RunRecord} from './store.js'

/** read: runs, compare, show... (a read-only store is read from a copy in memory); write: run, rm, tag... */
export type StoreAccess = 'read' | 'write'

export const INDEX_FILE = 'mlx.db'

export interface OpenedStore {
  store: Store
  /** Runs indexed from their directories because the index lacked them (a lost or emptied index). */
  indexed: IndexReport
}

export async function openStore(storeDir: string, access: StoreAccess = 'write'): Promise<Store> {
  return (await openStoreReporting(storeDir, access)).store
}

/** A UserError when the store cannot be written: for commands that write, before they do anything else. */
export function requireWritable(storeDir: string): void {
  const readOnly = readOnlyReason(storeDir)
  if (readOnly !== null) throw readOnlyError(storeDir, readOnly)
}

function readOnlyError(storeDir: string, reason: string): UserError {
  return new UserError(
    `the store ${shown(storeDir)} is read-only (${reason}): this command writes to it`,
    'run it where the project may be written, or point MLX_HOME at a writable copy of the store',
  )
}

export async function openStoreReporting(storeDir: string, access: StoreAccess = 'write'): Promise<OpenedStore> {
  const {default: Database} = await import('better-sqlite3')
  const file = join(storeDir, INDEX_FILE)
  const readOnly = readOnlyReason(storeDir)
  if (readOnly !== null) {
    if (access === 'write') throw readOnlyError(storeDir, readOnly)
    return openInMemory(Database, storeDir, readOnly)
  }
  mkdirSync(join(storeDir, RUNS_DIR), {recursive: true})
  const db = guarded(file, () => {
    const opened = new Database(file)
    configure(opened)
    migrate(opened)
    return opened
  })
  const store = new Store(db, storeDir, null)
  return {store, indexed: guarded(file, () => indexMissingRuns(store))}
}

export interface RebuildReport extends IndexReport {
  /** Where the old index was moved, if there was one. */
  movedTo: string | null
}

/**
 * `mlx store rebuild`: the index file and its write-ahead log moved aside (kept, not deleted),
 * a new index made and filled from the run directories.
 */
export async function rebuildStore(storeDir: string): Promise<{store: Store; report: RebuildReport}> {
  requireWritable(storeDir)
  const file = join(storeDir, INDEX_FILE)
  let movedTo: string | null = null
  if (existsSync(file)) {
    movedTo = `${file}.${new Date().toISOString().replace(/[:.]/g, '-')}.old`
    renameSync(file, movedTo)
    for (const suffix of ['-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, movedTo + suffix)
  }
  const {store, indexed} = await openStoreReporting(storeDir, 'write')
  return {store, report: {...indexed, movedTo}}
}

/** Why the store cannot be written (EROFS, EACCES), or null when it can (or does not exist yet and can be made). */
function readOnlyReason(storeDir: string): string | null {
  let dir = storeDir
  // The store, or the nearest folder above it that exists (where it would be made).
  while (!existsSync(dir)) {
    const parent = join(dir, '..')
    if (parent === dir) return null
    dir = parent
  }
  const targets = [
    dir,
    ...(dir === storeDir
      ? [join(storeDir, RUNS_DIR), join(storeDir, INDEX_FILE)].filter((path) => existsSync(path))
      : []),
  ]
  for (const target of targets) {
    try {
      accessSync(target, constants.W_OK)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      return code === 'EROFS'
        ? 'EROFS: a read-only file system'
        : code === 'EACCES' || code === 'EPERM'
          ? `${code}: no permission to write ${shown(target)}`
          : String(code)
    }
  }
  return null
}

/**
 * A read-only store, read from an in-memory copy of its index. The copy is complete only when
 * no write-ahead log holds changes beside it; where one does, or the index is missing, the
 * copy is built from the run directories (the source of truth).
 */
function openInMemory(Database: typeof BetterSqlite3, storeDir: string, reason: string): OpenedStore {
  const file = join(storeDir, INDEX_FILE)
  const walPending = existsSync(`${file}-wal`) && statSync(`${file}-wal`).size > 0
  const db = guarded(file, () => {
    const copy =
      existsSync(file) && !walPending ? new Database(asRollbackJournal(readFileSync(file))) : new Database(':memory:')
    configure(copy)
    migrate(copy)
    return copy
  })
  const store = new Store(db, storeDir, reason)
  return {store, indexed: guarded(file, () => indexMissingRuns(store))}
}

/**
 * An index in memory of one run, from its record and its metrics.jsonl: how a run whose store's
 * index failed under it (damaged, disk full) still has its end recorded (in run.json) and
 * reported. Its run files are written; nothing else on disk is touched.
 */
export async function openRunInMemory(storeDir: string, run: RunRecord): Promise<Store> {
  const {default: Database} = await import('better-sqlite3')
  const db = new Database(':memory:')
  configure(db)
  migrate(db)
  const store = new Store(db, storeDir, null)
  store.recoverRun(run)
  ingestAvailable(store, run.id, join(run.runDir, 'metrics.jsonl'), true)
  store.setAttemptLine(run.id)
  return store
}

/** A database file's bytes marked as using a rollback journal: SQLite opens no WAL (which needs files beside it) in memory. */
function asRollbackJournal(bytes: Buffer): Buffer {
  // The file format's read and write versions, bytes 18 and 19 of the header: 2 is WAL, 1 is legacy.
  if (bytes.length >= 20 && bytes[18] === 2 && bytes[19] === 2) bytes.fill(1, 18, 20)
  return bytes
}

function configure(db: BetterSqlite3.Database): void {
  // First, so that two mlx opening a new store at once wait for each other, even to switch to WAL.
  db.pragma('busy_timeout = 5000')
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
}

/**
 * Brings the schema up to date. The version is read inside the write transaction (BEGIN
 * IMMEDIATE): two mlx opening an old or new store at once (the nodes of one run) migrate it
 * once, the second finding the work done.
 */
function migrate(db: BetterSqlite3.Database): void {
  if ((db.pragma('user_version', {simple: true}) as number) === MIGRATIONS.length) return
  // A migration that rebuilds a table drops it: with foreign keys on, that would delete the rows
  // that refer to it. They are off for the migration (a pragma a transaction cannot change) and
  // checked before it commits.
  db.pragma('foreign_keys = OFF')
  try {
    migrateInTransaction(db)
  } finally {
    db.pragma('foreign_keys = ON')
  }
}

function migrateInTransaction(db: BetterSqlite3.Database): void {
  db.transaction(() => {
    const current = db.pragma('user_version', {simple: true}) as number
    if (current > MIGRATIONS.length) {
      throw new UserError(
        `the store was written by a newer mlx (schema ${current}; this mlx knows ${MIGRATIONS.length})`,
        'upgrade mlx',
      )
    }
    for (let version = current; version < MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version]!)
      db.pragma(`user_version = ${version + 1}`)
    }
    const broken = db.pragma('foreign_key_check') as unknown[]
    if (broken.length > 0) throw new Error(`the schema migration left ${broken.length} rows that refer to nothing`)
  }).immediate()
}

/** SQLite's words for a store that cannot be used, as a StoreError naming the file; anything else as it is. */
export function storeFailure(error: unknown, file: string): unknown {
  const code = (error as {code?: unknown}).code
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return error
  const message = (error as Error).message
  if (code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT_') || code === 'SQLITE_NOTADB') {
    return new StoreError(
      `the index ${shown(file)} is damaged (${message})`,
      'mlx store rebuild moves it aside and rebuilds it from the run directories, where nothing was lost',
    )
  }
  if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_IOERR_FSYNC') {
    return new StoreError(
      `the index ${shown(file)} cannot be written (${message})`,
      'free some disk space; the run directories keep every metric, and the index catches up on the next command',
    )
  }
  if (
    code === 'SQLITE_READONLY' ||
    code.startsWith('SQLITE_READONLY_') ||
    code === 'SQLITE_CANTOPEN' ||
    code.startsWith('SQLITE_CANTOPEN_')
  ) {
    return new StoreError(
      `the index ${shown(file)} cannot be opened for writing (${message})`,
      'check that the store may be written, or point MLX_HOME at a writable copy',
    )
  }
  if (code.startsWith('SQLITE_IOERR'))
    return new StoreError(
      `the index ${shown(file)} cannot be read or written (${message})`,
      'check the disk; mlx store rebuild rebuilds the index from the run directories',
    )
  return error
}

/** Runs `work`, turning SQLite's failures into StoreErrors that name the index. */
export function guarded<T>(file: string, work: () => T): T {
  try {
    return work()
  } catch (error) {
    throw storeFailure(error, file)
  }
}

function shown(path: string): string {
  const near = relative(process.cwd(), path)
  return near && !near.startsWith('../..') ? near : path
}
