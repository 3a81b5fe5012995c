/** Schema migrations, applied in order; `PRAGMA user_version` holds how many ran. Never edit one that has shipped: add another. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    -- the integer that metric rows carry instead of the id: 10^8 rows stay about half the size
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    task           TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'diverged', 'interrupted')),
    created_at     REAL NOT NULL,
    ended_at       REAL,
    exit_code      INTEGER,
    signal         TEXT,
    pid            INTEGER,
    host           TEXT NOT NULL,
    run_dir        TEXT NOT NULL,
    config_json    TEXT NOT NULL,
    primary_metric TEXT NOT NULL,
    primary_goal   TEXT CHECK (primary_goal IN ('min', 'max')),
    error          TEXT,
    ingest_offset  INTEGER NOT NULL DEFAULT 0,
    lines_read     INTEGER NOT NULL DEFAULT 0,
    bad_lines      INTEGER NOT NULL DEFAULT 0,
    torn_lines     INTEGER NOT NULL DEFAULT 0,
    skipped_values INTEGER NOT NULL DEFAULT 0,
    last_problem   TEXT,
    -- lines_read when the current attempt (the first launch, or the latest resume) began
    attempt_line   INTEGER NOT NULL DEFAULT 0,
    -- a JSON list: the config's tags at creation, then whatever mlx tag adds or removes
    tags_json      TEXT NOT NULL DEFAULT '[]'
  );
  CREATE INDEX runs_created ON runs (created_at);
  CREATE INDEX runs_name ON runs (name);
  CREATE INDEX runs_status ON runs (status);
  -- covers listing every run at a glance (compare --where): a compact index read instead of
  -- the table, whose rows hold whole configs
  CREATE INDEX runs_brief ON runs (created_at, seq, id, name, task, status, ended_at, primary_metric, primary_goal, tags_json);

  CREATE TABLE metric_keys (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
  );

  CREATE TABLE metrics (
    run    INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
    line   INTEGER NOT NULL,
    key    INTEGER NOT NULL REFERENCES metric_keys (id),
    step   INTEGER NOT NULL,
    epoch  REAL,
    t      REAL NOT NULL,
    value  REAL
  );
  CREATE INDEX metrics_run_key_step ON metrics (run, key, step);

  -- each run's params (its config flattened: optim.lr...), values as JSON, so that
  -- compare --where reads the few params it names for every run without parsing configs
  CREATE TABLE run_params (
    key   TEXT NOT NULL,
    run   INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
    value TEXT NOT NULL,
    PRIMARY KEY (key, run)
  ) WITHOUT ROWID;
  CREATE INDEX run_params_run ON run_params (run);

  CREATE TABLE metric_summary (
    run_id    TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    count     INTEGER NOT NULL,
    last      REAL,
    last_step INTEGER NOT NULL,
    min       REAL,
    min_step  INTEGER,
    max       REAL,
    max_step  INTEGER,
    -- key first: compare --where reads one metric of every run as a range of this key
    PRIMARY KEY (key, run_id)
  ) WITHOUT ROWID;
  CREATE INDEX metric_summary_run ON metric_summary (run_id);

  CREATE TABLE events (
    run_id    TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    line      INTEGER NOT NULL,
    t         REAL NOT NULL,
    event     TEXT NOT NULL,
    data_json TEXT NOT NULL
  );
  CREATE INDEX events_run ON events (run_id, line);
  `,
  `
  -- how the run was launched: torchrun runs record their processes and nodes
  ALTER TABLE runs ADD COLUMN launcher TEXT NOT NULL DEFAULT 'local';
  ALTER TABLE runs ADD COLUMN world_size INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE runs ADD COLUMN nodes INTEGER NOT NULL DEFAULT 1;
  -- a scheduler's id for the run's job (Slurm), where there is no local process to watch
  ALTER TABLE runs ADD COLUMN job_id TEXT;
  -- set by mlx stop: the mlx that follows the run records it as interrupted, not failed
  ALTER TABLE runs ADD COLUMN stop_requested_at REAL;
  `,
  `
  -- run directories relative to the store: a copied or moved store works on its own files
  UPDATE runs SET run_dir = 'runs/' || id;
  -- the mlx process that follows a running run: the claim that lets a run run once at a time
  ALTER TABLE runs ADD COLUMN follower_pid INTEGER;
  ALTER TABLE runs ADD COLUMN follower_host TEXT;
  -- facts about the store itself (when the run directories were last checked against the index)
  CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  -- notes added after the fact (mlx note): a JSON list of {at, text}, searchable with --where note ~ ...
  ALTER TABLE runs ADD COLUMN notes_json TEXT NOT NULL DEFAULT '[]';
  -- the brief columns stay covered by one index: --where pages through it without reading rows
  DROP INDEX runs_brief;
  CREATE INDEX runs_brief ON runs (created_at, seq, id, name, task, status, ended_at, primary_metric, primary_goal, tags_json, notes_json);
  `,
  `
  -- sweeps (mlx sweep): a trial's run carries its sweep, trial number, and seed and fold when
  -- repeated; 'pruned' is a status. A CHECK cannot be altered: the table is rebuilt (SQLite's
  -- documented procedure, run with foreign keys off by open.ts; rows keep their seq).
  CREATE TABLE runs_next (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    task           TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'diverged', 'interrupted', 'pruned')),
    created_at     REAL NOT NULL,
    ended_at       REAL,
    exit_code      INTEGER,
    signal         TEXT,
    pid            INTEGER,
    host           TEXT NOT NULL,
    run_dir        TEXT NOT NULL,
    config_json    TEXT NOT NULL,
    primary_metric TEXT NOT NULL,
    primary_goal   TEXT CHECK (primary_goal IN ('min', 'max')),
    error          TEXT,
    ingest_offset  INTEGER NOT NULL DEFAULT 0,
    lines_read     INTEGER NOT NULL DEFAULT 0,
    bad_lines      INTEGER NOT NULL DEFAULT 0,
    torn_lines     INTEGER NOT NULL DEFAULT 0,
    skipped_values INTEGER NOT NULL DEFAULT 0,
    last_problem   TEXT,
    attempt_line   INTEGER NOT NULL DEFAULT 0,
    tags_json      TEXT NOT NULL DEFAULT '[]',
    launcher       TEXT NOT NULL DEFAULT 'local',
    world_size     INTEGER NOT NULL DEFAULT 1,
    nodes          INTEGER NOT NULL DEFAULT 1,
    job_id         TEXT,
    stop_requested_at REAL,
    follower_pid   INTEGER,
    follower_host  TEXT,
    notes_json     TEXT NOT NULL DEFAULT '[]',
    sweep          TEXT,
    trial          INTEGER,
    trial_seed     INTEGER,
    trial_fold     INTEGER
  );
  INSERT INTO runs_next (seq, id, name, task, status, created_at, ended_at, exit_code, signal, pid, host, run_dir, config_json, primary_metric, primary_goal, error, ingest_offset, lines_read, bad_lines, torn_lines, skipped_values, last_problem, attempt_line, tags_json, launcher, world_size, nodes, job_id, stop_requested_at, follower_pid, follower_host, notes_json) SELECT seq, id, name, task, status, created_at, ended_at, exit_code, signal, pid, host, run_dir, config_json, primary_metric, primary_goal, error, ingest_offset, lines_read, bad_lines, torn_lines, skipped_values, last_problem, attempt_line, tags_json, launcher, world_size, nodes, job_id, stop_requested_at, follower_pid, follower_host, notes_json FROM runs;
  DROP TABLE runs;
  ALTER TABLE runs_next RENAME TO runs;
  CREATE INDEX runs_created ON runs (created_at);
  CREATE INDEX runs_name ON runs (name);
  CREATE INDEX runs_status ON runs (status);
  CREATE INDEX runs_brief ON runs (created_at, seq, id, name, task, status, ended_at, primary_metric, primary_goal, tags_json, notes_json);
  CREATE INDEX runs_sweep ON runs (sweep, trial) WHERE sweep IS NOT NULL;
  `,
  `
  -- what a run is for: 'train' (mlx run, resume, sweep) or 'profile' (mlx profile: a few steps under torch.profiler)
  ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'train';
  `,
]
