/** A new run: its id, its directory with the resolved config (YAML and JSON) and generated script, its row in the store; and the project's git state for env.json. */
import {spawnSync} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {join, relative} from 'node:path'
import {stringify as toYaml} from 'yaml'
import type {ExperimentConfig} from '../config/schema.js'
import {mlxVersion, runtimeDir} from '../project/paths.js'
import type {Project} from '../project/project.js'
import {renderScript} from '../recipes/registry.js'
import type {RunKind, RunRecord, Store, TrialTag} from '../store/store.js'
import {captureGit, writeProvenance, type Provenance} from './provenance.js'

export function newRunId(): string {
  return randomBytes(5).toString('hex')
}

/** The run's resolved config: YAML for people, JSON for the script. */
export function writeConfigFiles(runDir: string, id: string, config: ExperimentConfig): void {
  const header = `# The resolved config of run ${id}: defaults filled, overrides applied. config.json holds the same data for the script.\n`
  writeFileSync(join(runDir, 'config.yaml'), header + toYaml(config))
  writeFileSync(join(runDir, 'config.json'), JSON.stringify(config, null, 2) + '\n')
}

/** The project's git commit, whether tracked files differ from it, and a hash of that difference (to tell two dirty states apart). */
export function gitState(root: string): {commit: string | null; dirty: boolean | null; diff_sha256: string | null} {
  const git = (args: string[]) => spawnSync('git', args, {cwd: root, encoding: 'utf8', maxBuffer: 1 << 30})
  const head = git(['rev-parse', 'HEAD'])
  if (head.status !== 0) return {commit: null, dirty: null, diff_sha256: null}
  const diff = String(git(['diff', 'HEAD']).stdout)
  return {
    commit: String(head.stdout).trim(),
    dirty: diff !== '',
    diff_sha256: diff === '' ? null : createHash('sha256').update(diff).digest('hex'),
  }
}

/** The run's directory with its resolved config, how it was made (provenance.ts), its generated script (a recipe's) and an empty metrics file, and its row in the store. */
export function createRun(
  project: Project,
  store: Store,
  config: ExperimentConfig,
  provenance: Omit<Provenance, 'git'>,
  trial: TrialTag | null = null,
  kind: RunKind = 'train',
): RunRecord {
  const id = newRunId()
  const runDir = store.runDir(id)
  mkdirSync(join(runDir, 'checkpoints'), {recursive: true})
  const createdAt = Date.now() / 1000
  writeConfigFiles(runDir, id, config)
  writeProvenance(runDir, {...provenance, git: captureGit(project.root, runDir)})
  store.createRun(
    {
      id,
      name: config.name,
      task: config.task,
      host: hostname(),
      config,
      primaryMetric: config.metrics.primary,
      primaryGoal: config.metrics.goal,
      trial,
      kind,
    },
    createdAt,
  )
  // A recipe's script is generated into the run; a user's own script runs where it is.
  if (config.task !== 'script') {
    const script = renderScript(config.task, {
      runId: id,
      runName: config.name,
      version: mlxVersion(),
      runDir: relative(project.root, runDir) || '.',
      runtimeDir,
    })
    writeFileSync(join(runDir, 'train.py'), script.source)
  }
  writeFileSync(join(runDir, 'metrics.jsonl'), '')
  return store.getRun(id)!
}
