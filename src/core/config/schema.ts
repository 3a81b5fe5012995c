/**
 * The experiment config: one zod schema is the source of truth for the TypeScript
 * types, validation, defaults and the JSON Schema (`mlx schema`). Every object is
 * strict (an unknown key is an error) and every section has defaults, so the
 * DESIGN.md minimal config is complete once parsed.
 *
 * `.prefault({})` (not `.default({})`) makes a missing section parse as `{}`, so the
 * section's own field defaults fill it.
 */
import {z} from 'zod'

const devicePattern = /^(auto|cpu|cuda(:\d+)?)$/

const Seed = z.int().min(0).default(0).describe('Seeds Python, NumPy and PyTorch; also fixes the train/val split.')

const Optim = z
  .strictObject({
    name: z.enum(['sgd', 'adam', 'adamw']).default('adam').describe('Optimiser.'),
    lr: z.number().positive().default(0.001).describe('Learning rate.'),
    weight_decay: z.number().min(0).default(0).describe('L2 penalty (decoupled for adamw).'),
    momentum: z.number().min(0).lt(1).default(0.9).describe('Momentum (sgd only).'),
    nesterov: z.boolean().default(false).describe('Nesterov momentum (sgd only).'),
    betas: z
      .tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)])
      .default([0.9, 0.999])
      .describe('Adam betas (adam, adamw).'),
  })
  .describe('Optimiser and its hyper-parameters.')

const Scheduler = z
  .strictObject({
    name: z.enum(['none', 'step']).default('none').describe('Learning-rate schedule, stepped once per epoch.'),
    step_size: z.int().min(1).default(10).describe('step: epochs between decays.'),
    gamma: z.number().gt(0).max(1).default(0.1).describe('step: factor applied at each decay.'),
  })
  .describe('Learning-rate schedule.')

const Train = z
  .strictObject({
    epochs: z.int().min(1).default(10).describe('Passes over the training set.'),
    log_every: z.int().min(1).default(10).describe('Log train metrics every N optimiser steps (and at each epoch end).'),
    eval_every: z.int().min(1).default(1).describe('Validate every N epochs (and after the last).'),
  })
  .describe('The training loop.')

const Launch = z
  .strictObject({
    launcher: z.enum(['local']).default('local').describe('Where the script runs.'),
    device: z
      .string()
      .regex(devicePattern, {error: 'expected auto, cpu, cuda or cuda:N'})
      .default('auto')
      .describe('auto (CUDA when visible, else CPU), cpu, cuda or cuda:N.'),
  })
  .describe('How and where the training script is launched.')

const Metrics = (primary: string) =>
  z
    .strictObject({
      primary: z.string().min(1).default(primary).describe('The metric that ranks runs (shown by `mlx runs`).'),
      goal: z
        .enum(['min', 'max'])
        .optional()
        .describe('Whether lower or higher is better; inferred from the name when absent (loss: min, acc: max).'),
    })
    .describe('Which metric decides between runs.')

const name = z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^\s/\\][^/\\]*$/, {error: 'a run name may not contain slashes or start with a space'})
    .describe('Experiment name; runs are listed and compared by it.')

/** The sections every task shares, after its own data, model, loss and metrics (DESIGN.md order). */
const trainingSections = {
  optim: Optim.prefault({}),
  scheduler: Scheduler.prefault({}),
  train: Train.prefault({}),
  launch: Launch.prefault({}),
}

const ImageClassification = z.strictObject({
  name,
  task: z.literal('image-classification').describe('The recipe: which template generates the script.'),
  seed: Seed,
  data: z
    .strictObject({
      source: z.enum(['digits']).default('digits').describe("digits: scikit-learn's bundled 8x8 digits (offline)."),
      batch_size: z.int().min(1).default(64).describe('Samples per optimiser step.'),
      val_fraction: z.number().gt(0).lt(1).default(0.2).describe('Share of the data held out for validation (stratified, fixed seed).'),
      num_workers: z.int().min(0).default(0).describe('DataLoader worker processes.'),
    })
    .prefault({})
    .describe('The dataset and how it is batched.'),
  model: z
    .strictObject({
      arch: z.enum(['cnn']).default('cnn').describe('cnn: the guide Backbone (two conv blocks, adaptive pooling) + linear Classifier.'),
      channels: z.tuple([z.int().min(1), z.int().min(1)]).default([32, 64]).describe('Output channels of the two conv blocks.'),
      dropout: z.number().min(0).lt(1).default(0.1).describe('Dropout before the linear head.'),
    })
    .prefault({})
    .describe('The network.'),
  loss: z
    .strictObject({
      name: z.enum(['cross_entropy']).default('cross_entropy').describe('Training loss.'),
      label_smoothing: z.number().min(0).lt(1).default(0).describe('Cross-entropy label smoothing.'),
    })
    .prefault({})
    .describe('The training loss.'),
  metrics: Metrics('val/acc').prefault({}),
  ...trainingSections,
})

export const ExperimentConfigSchema = z
  .discriminatedUnion('task', [ImageClassification])
  .describe('An mlx experiment config.')

export type ExperimentConfigInput = z.input<typeof ExperimentConfigSchema>
export type ExperimentConfig = z.output<typeof ExperimentConfigSchema>
export type Task = ExperimentConfig['task']

/** The tasks the schema knows, in the order they are declared. */
export const TASKS: readonly Task[] = ExperimentConfigSchema.options.map((option) => option.shape.task.value)

/** `mlx.yaml`: marks a project root and holds project-wide settings. */
export const ProjectFileSchema = z
  .strictObject({
    python: z.string().min(1).optional().describe('Python interpreter that runs training (a path relative to the project, or a command on PATH).'),
  })
  .describe('An mlx project file.')
export type ProjectFile = z.output<typeof ProjectFileSchema>

/** The JSON Schema of config files as written (fields with defaults are optional). */
export function experimentJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'mlx experiment config',
    ...z.toJSONSchema(ExperimentConfigSchema, {io: 'input', target: 'draft-2020-12'}),
  }
}
