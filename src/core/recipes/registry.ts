/**
 * The recipes: one folder per task under `templates/` holding `train.py` (the script
 * template), `config.yaml` (the default config that `mlx init` scaffolds) and, where the
 * template brings files of its own (the script template's example script), `files/`,
 * which `mlx init` copies into the project.
 * MLX_TEMPLATES_DIR names a folder of recipe folders that take precedence over the
 * built-in ones, for a team that keeps its own variant of a recipe.
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {UserError} from '../errors.js'
import {templatesDir} from '../project/paths.js'
import type {ExperimentConfig, Task} from '../config/schema.js'

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
const fieldsOf = (section: unknown): Fields => (typeof section === 'object' && section !== null ? (section as Fields) : {})
/** A section of the config, whatever the task (a script's config has no data section). */
const sectionOf = (config: ExperimentConfig, name: 'data' | 'model'): Fields => fieldsOf((config as unknown as Fields)[name])

/** data.path and, when set, data.val_path: for the sources that read the user's own files. */
function dataFiles(config: ExperimentConfig, sources: readonly string[], kind: InputPath['kind']): InputPath[] {
  const data = sectionOf(config, 'data')
  if (!sources.includes(String(data.source))) return []
  return [{key: ['data', 'path'], kind}, ...(typeof data.val_path === 'string' ? [{key: ['data', 'val_path'], kind}] : [])]
}

/** A dataset folder that the script may not download (download: false) must be there already. */
function datasetRoot(config: ExperimentConfig, sources: readonly string[]): InputPath[] {
  const data = sectionOf(config, 'data')
  if (!sources.includes(String(data.source)) || data.download !== false) return []
  return [{key: ['data', 'root'], kind: 'directory', hint: 'with download: false the dataset must be there already; download: true fetches it where the network allows'}]
}

const CLASSIFICATION_METRICS = ['val/loss', 'val/acc', 'val/f1'] as const
const REGRESSION_METRICS = ['val/loss', 'val/rmse', 'val/mae', 'val/r2'] as const

export const RECIPES: Readonly<Record<Task, Recipe>> = {
  'image-classification': {
    task: 'image-classification',
    summary: 'the guide\'s CNN, an MLP or torchvision ResNet/EfficientNet on digits (bundled), MNIST, Fashion-MNIST, CIFAR-10, your image folder or synthetic images',
    keyMetrics: ['val/acc', 'val/f1', 'val/loss', 'train/loss'],
    evalMetrics: () => CLASSIFICATION_METRICS,
    distributed: true,
    inputs: (config) => [...dataFiles(config, ['imagefolder'], 'directory'), ...datasetRoot(config, ['mnist', 'fashion-mnist', 'cifar10'])],
  },
  tabular: {
    task: 'tabular',
    summary: "MLP on a table: scikit-learn's bundled wine (classification) or diabetes (regression), or your CSV",
    keyMetrics: ['val/acc', 'val/f1', 'val/r2', 'val/rmse', 'val/mae', 'val/loss', 'train/loss'],
    evalMetrics: (config) => (config.task === 'tabular' && config.data.kind === 'regression' ? REGRESSION_METRICS : CLASSIFICATION_METRICS),
    distributed: true,
    inputs: (config) => dataFiles(config, ['csv'], 'file'),
  },
  'speech-recognition': {
    task: 'speech-recognition',
    summary: "CTC speech recognition (log-mel features, CNN + BiLSTM, greedy decoding) on digits and words spoken by espeak-ng (offline), your manifest or LibriSpeech",
    keyMetrics: ['val/cer', 'val/wer', 'val/loss', 'train/loss'],
    evalMetrics: () => ['val/loss', 'val/cer', 'val/wer'],
    distributed: false,
    inputs: (config) => [...dataFiles(config, ['manifest'], 'file'), ...datasetRoot(config, ['librispeech'])],
  },
  'rl-dqn': {
    task: 'rl-dqn',
    summary: "DQN (Double DQN, replay, target network, epsilon-greedy) on gymnasium's CartPole-v1 or another classic-control environment (offline)",
    keyMetrics: ['val/return', 'train/return', 'train/episode_length', 'train/loss', 'train/q_mean', 'epsilon'],
    evalMetrics: () => ['val/return', 'val/return_std', 'val/length'],
    distributed: false,
    inputs: () => [],
  },
  'recsys-dlrm': {
    task: 'recsys-dlrm',
    summary: 'DLRM click-through prediction on Criteo-layout logs: synthetic ones from a known model (offline), or Criteo\'s own',
    keyMetrics: ['val/auc', 'val/loss', 'val/calibration', 'train/loss'],
    evalMetrics: () => ['val/loss', 'val/auc', 'val/calibration'],
    distributed: false,
    inputs: (config) => dataFiles(config, ['criteo'], 'file'),
  },
  'text-classification': {
    task: 'text-classification',
    summary: "EmbeddingBag baseline, TextCNN or BiLSTM on topics from Debian's fortunes, or your CSV, JSON Lines or AG_NEWS files",
    keyMetrics: ['val/f1', 'val/acc', 'val/loss', 'train/loss'],
    evalMetrics: () => CLASSIFICATION_METRICS,
    distributed: false,
    inputs: (config) => {
      const data = sectionOf(config, 'data')
      const fortunes: InputPath[] = data.source === 'fortunes' ? [{key: ['data', 'directory'], kind: 'directory', hint: "Debian's fortunes package keeps its topics there (apt-get install fortunes)"}] : []
      const model: InputPath[] = sectionOf(config, 'model').arch === 'huggingface' ? [{key: ['model', 'hf_path'], kind: 'directory', hint: 'a folder written by save_pretrained: config, weights, tokenizer'}] : []
      return [...fortunes, ...dataFiles(config, ['csv', 'jsonl', 'ag_news'], 'file'), ...model]
    },
  },
  script: {
    task: 'script',
    summary: 'your own training script, run unchanged: metrics from mlx_runtime calls, or from its printed lines through patterns',
    keyMetrics: ['val/loss', 'train/loss', 'loss'],
    // Whatever the script prints: nothing to check a metric name against.
    evalMetrics: () => [],
    // The script's own business: mlx runs it under torchrun as it is.
    distributed: true,
    // script.path is checked where the config is read; what it reads is its own business.
    inputs: () => [],
  },
}

export function recipeFolder(task: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env.MLX_TEMPLATES_DIR ? join(env.MLX_TEMPLATES_DIR, task) : undefined
  if (override && existsSync(join(override, 'config.yaml'))) return override
  const builtIn = join(templatesDir, task)
  if (!existsSync(join(builtIn, 'config.yaml'))) {
    const known = readdirSync(templatesDir).join(', ')
    throw new UserError(`no recipe template for task ${JSON.stringify(task)}`, `templates: ${known}`)
  }
  return builtIn
}

export function defaultConfigText(task: string): string {
  return readFileSync(join(recipeFolder(task), 'config.yaml'), 'utf8')
}

/** The files a template brings into a project besides its config: paths relative to the project root. */
export function templateFiles(task: string): Array<{path: string; source: string}> {
  const root = join(recipeFolder(task), 'files')
  if (!existsSync(root)) return []
  return readdirSync(root, {recursive: true, withFileTypes: true})
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const source = join(entry.parentPath, entry.name)
      return {path: relative(root, source), source}
    })
}

export interface RenderedScript {
  source: string
  template: string
}

/**
 * The run's script: the template with a header saying where it came from and how to
 * run it by hand. Nothing from the config is spliced in; the script reads config.json.
 */
export function renderScript(task: string, header: {runId: string; runName: string; version: string; runDir: string; runtimeDir: string}): RenderedScript {
  const template = join(recipeFolder(task), 'train.py')
  const lines = [
    `# Generated by mlx ${header.version} from ${template}`,
    // JSON quoting keeps any name on this one comment line.
    `# for run ${header.runId} (${JSON.stringify(header.runName)}). It reads every setting from config.json beside it.`,
    '# To run it again by hand, from the project root:',
    `#   MLX_RUN_DIR=${header.runDir} PYTHONPATH=${header.runtimeDir} python ${join(header.runDir, 'train.py')} --config ${join(header.runDir, 'config.json')}`,
    '',
  ]
  return {source: lines.join('\n') + readFileSync(template, 'utf8'), template}
}
