/**
 * What mlx knows of a task's recipe besides its config schema: the metrics it logs and shows,
 * whether it trains data-parallel, the user's files it reads. Each task's facts are in
 * tasks/<task>.ts beside its schema branch; the helpers here are what several of them share.
 */
import type {ExperimentConfig, Task} from './schema.js'

export interface Recipe {
  task: Task
  /** One line for `mlx init --list`. */
  summary: string
  /** The metrics `mlx compare` shows by default, most important first. */
  keyMetrics: readonly string[]
  /** What the script logs at each evaluation for this config: what the primary metric and the monitors can watch. */
  evalMetrics(config: ExperimentConfig): readonly string[]
  /** Whether the script trains data-parallel under torchrun (DDP, sharded data, rank-0 output). */
  distributed: boolean
  /** Files and folders of the user's that the script reads for this config: checked before a run is made. */
  inputs(config: ExperimentConfig): InputPath[]
}

/** A config value naming a file or folder the script will read, relative to the project root. */
export interface InputPath {
  key: string[]
  kind: 'file' | 'directory'
  hint?: string
}

type Fields = Record<string, unknown>
const fieldsOf = (section: unknown): Fields =>
  typeof section === 'object' && section !== null ? (section as Fields) : {}
/** A section of the config, whatever the task (a script's config has no data section). */
export const sectionOf = (config: ExperimentConfig, name: 'data' | 'model'): Fields =>
  fieldsOf((config as unknown as Fields)[name])

/** data.path and, when set, data.val_path: for the sources that read the user's own files. */
export function dataFiles(config: ExperimentConfig, sources: readonly string[], kind: InputPath['kind']): InputPath[] {
  const data = sectionOf(config, 'data')
  if (!sources.includes(String(data.source))) return []
  return [
    {key: ['data', 'path'], kind},
    ...(typeof data.val_path === 'string' ? [{key: ['data', 'val_path'], kind}] : []),
  ]
}

/** A dataset folder that the script may not download (download: false) must be there already. */
export function datasetRoot(config: ExperimentConfig, sources: readonly string[]): InputPath[] {
  const data = sectionOf(config, 'data')
  if (!sources.includes(String(data.source)) || data.download !== false) return []
  return [
    {
      key: ['data', 'root'],
      kind: 'directory',
      hint: 'with download: false the dataset must be there already; download: true fetches it where the network allows',
    },
  ]
}

export const CLASSIFICATION_METRICS = ['val/loss', 'val/acc', 'val/f1'] as const
export const REGRESSION_METRICS = ['val/loss', 'val/rmse', 'val/mae', 'val/r2'] as const
