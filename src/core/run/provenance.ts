/**
 * How a run was made, in provenance.json beside its resolved config: the config file (relative
 * to the project root) and a hash of its bytes, the overrides in the order they were applied,
 * the command line, the run it was made from (`mlx run --from`), which params the overrides
 * set and which differ from the recipe's defaults; and the project's git commit with its
 * uncommitted changes saved as git.patch (staged and unstaged, bounded in size) and its
 * untracked files listed, so that the code that trained the run can be rebuilt. Written once,
 * when the run is created: the tree may change while the run trains.
 */
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {readJsonFile} from '../report/inspect.js'

export const PROVENANCE_FILE = 'provenance.json'
export const PATCH_FILE = 'git.patch'
/** A patch larger than this is not saved (its hash still is): a run directory is no backup of a repository. */
export const MAX_PATCH_BYTES = 10 * 1024 * 1024
/** Untracked files listed by name (folders git collapses count once); the rest are counted. */
const MAX_UNTRACKED = 200

export interface GitRecord {
  commit: string
  /** The project's folder inside the repository ('' at its top), where the patch's paths start from. */
  prefix: string
  dirty: boolean
  /** sha256 of the patch (staged and unstaged changes against the commit, binary included). */
  diffSha256: string | null
  /** The saved patch's file name in the run directory, or null when clean or too large. */
  patch: string | null
  patchBytes: number
  /** Why a dirty tree's patch was not saved. */
  patchSkipped: string | null
  /** Files git does not track nor ignore (not in the patch), relative to the repository's top. */
  untracked: string[]
  untrackedMore: number
}

export interface Provenance {
  configFile: string
  configSha256: string | null
  /** The overrides in the order they were applied (--set, then KEY=VALUE arguments). */
  overrides: string[]
  argv: string[]
  fromRun: {id: string; name: string} | null
  /** Params (flat keys) that an override set. */
  overriddenParams: string[]
  /** Params (flat keys) whose value differs from the recipe's default. */
  nonDefaultParams: string[]
  git: GitRecord | null
}

/** What the command that makes a run knows of how: the rest is computed when the config is loaded. */
export interface RunOrigin {
  configFile: string
  overrides: readonly string[]
  argv: readonly string[]
  fromRun?: {id: string; name: string}
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** The flat param keys that `overrides` (KEY.PATH=VALUE) set: the key itself, or those under it. */
export function overriddenParams(overrides: readonly string[], paramKeys: readonly string[]): string[] {
  const keys = overrides.map((override) => override.slice(0, Math.max(0, override.indexOf('='))).trim())
  return paramKeys.filter((param) => keys.some((key) => key && (param === key || param.startsWith(`${key}.`))))
}

/**
 * The repository's commit, with the uncommitted changes written to `runDir`/git.patch when
 * there are any and they fit MAX_PATCH_BYTES; null outside a git repository.
 */
export function captureGit(root: string, runDir: string): GitRecord | null {
  const git = (args: string[]) =>
    spawnSync('git', args, {cwd: root, encoding: 'buffer', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore']})
  const head = git(['rev-parse', 'HEAD', '--show-prefix'])
  if (head.status !== 0) return null
  const [commit = '', prefix = ''] = head.stdout.toString('utf8').split('\n')
  // Against HEAD from the repository's top: staged and unstaged changes, binary files as git can apply them.
  const diff = git([
    '-c',
    'core.quotePath=false',
    'diff',
    'HEAD',
    '--binary',
    '--no-color',
    '--no-ext-diff',
    '--',
    ':/',
  ])
  const patch = diff.status === 0 ? diff.stdout : Buffer.alloc(0)
  const status = git(['status', '--porcelain=v1', '-z', '--untracked-files=normal'])
  const untracked = (status.status === 0 ? status.stdout.toString('utf8') : '')
    .split('\0')
    .filter((entry) => entry.startsWith('?? '))
    .map((entry) => entry.slice(3))
  const dirty = patch.length > 0
  const fits = dirty && patch.length <= MAX_PATCH_BYTES
  if (fits) writeFileSync(join(runDir, PATCH_FILE), patch)
  return {
    commit: commit.trim(),
    prefix: prefix.trim(),
    dirty,
    diffSha256: dirty ? sha256(patch) : null,
    patch: fits ? PATCH_FILE : null,
    patchBytes: patch.length,
    patchSkipped:
      dirty && !fits
        ? `the uncommitted changes are ${(patch.length / 1024 / 1024).toFixed(1)} MB, over the ${MAX_PATCH_BYTES / 1024 / 1024} MB a run keeps`
        : null,
    untracked: untracked.slice(0, MAX_UNTRACKED),
    untrackedMore: Math.max(0, untracked.length - MAX_UNTRACKED),
  }
}

export function writeProvenance(runDir: string, provenance: Provenance): void {
  writeFileSync(join(runDir, PROVENANCE_FILE), JSON.stringify(provenance, null, 2) + '\n')
}

/** A run's provenance.json; null for runs made before mlx recorded it, or a file that is not one. */
export function readProvenance(runDir: string): Provenance | null {
  const value = readJsonFile(join(runDir, PROVENANCE_FILE))
  return value && typeof value.configFile === 'string' && Array.isArray(value.overrides)
    ? (value as unknown as Provenance)
    : null
}
