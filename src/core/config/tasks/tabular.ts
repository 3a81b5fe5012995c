/** The tabular task: its config's schema branch, its default primary metric, and what mlx knows of its recipe. */
import {CLASSIFICATION_METRICS, dataFiles, REGRESSION_METRICS, type Recipe} from '../task.js'
import type * as Sections from '../sections.js'

/**
 * The task's branch of the config schema, made of zod and the shared sections that schema.ts hands in. This
 * module loads no zod itself, so a command that needs only the recipe facts below (compare) loads none either.
 */
export function schema({
  z,
  taskLiteral,
  about,
  columnName,
  Goal,
  header,
  loaderFields,
  splitFields,
  positive,
  trainingSections,
}: typeof Sections) {
  const TabularData = z
    .discriminatedUnion('source', [
      z
        .strictObject({
          source: z
            .literal('wine')
            .default('wine')
            .describe(
              "scikit-learn's bundled wine set: 178 wines, 13 measurements, 3 cultivars (offline; the default).",
            ),
          kind: z.literal('classification').default('classification').describe('wine is a classification set.'),
          ...loaderFields,
          ...splitFields,
        })
        .describe('wine (classification).'),
      z
        .strictObject({
          source: z
            .literal('diabetes')
            .describe(
              "scikit-learn's bundled diabetes set: 442 patients, 10 measurements, disease progression after a year (offline).",
            ),
          kind: z.literal('regression').default('regression').describe('diabetes is a regression set.'),
          ...loaderFields,
          ...splitFields,
        })
        .describe('diabetes (regression).'),
      z
        .strictObject({
          source: z.literal('csv').describe('A CSV file of yours with a header row.'),
          path: z.string().min(1).describe('The CSV file, relative to the project root.'),
          kind: z
            .enum(['classification', 'regression'])
            .describe('classification (the target is a class) or regression (a number).'),
          target: columnName().describe('The column to predict.'),
          features: z
            .array(columnName())
            .min(1)
            .nullable()
            .default(null)
            .describe('The input columns (null: every column but the target).'),
          categorical: z
            .array(columnName())
            .default([])
            .describe(
              'Columns to treat as categories even though they hold numbers; columns with any non-numeric value are categorical anyway.',
            ),
          delimiter: z.string().length(1).default(',').describe('The field delimiter.'),
          val_path: z
            .string()
            .min(1)
            .nullable()
            .default(null)
            .describe(
              'A CSV of validation rows with the same columns (null: split val_fraction off the training file).',
            ),
          ...loaderFields,
          ...splitFields,
        })
        .describe('A CSV file.'),
    ])
    .describe('The table and how it is batched: `source` picks it and its fields.')

  const Tabular = z
    .strictObject({
      ...header,
      task: taskLiteral('tabular'),
      ...about,
      data: TabularData.prefault({}),
      model: z
        .strictObject({
          arch: z
            .enum(['mlp'])
            .default('mlp')
            .describe('mlp: linear layers with ReLU, optional batch norm and dropout.'),
          hidden: z
            .array(z.int().min(1))
            .default([64, 64])
            .describe('Widths of the hidden layers ([] for a linear model).'),
          dropout: z.number().min(0).lt(1).default(0.1).describe('Dropout after each hidden layer.'),
          batch_norm: z.boolean().default(true).describe('Batch normalisation after each hidden linear layer.'),
          categorical: z
            .enum(['embedding', 'onehot'])
            .default('embedding')
            .describe('How categorical columns enter the network: a learned embedding each, or one-hot.'),
          embedding_dim: z
            .int()
            .min(1)
            .nullable()
            .default(null)
            .describe('Embedding width per categorical column (null: min(16, (categories + 1) // 2)).'),
        })
        .prefault({})
        .describe('The network.'),
      loss: z
        .strictObject({
          name: z
            .enum(['auto', 'cross_entropy', 'mse', 'mae', 'huber'])
            .default('auto')
            .describe(
              'Training loss; auto: cross_entropy for classification, mse for regression. mae and huber are for regression.',
            ),
          label_smoothing: z.number().min(0).lt(1).default(0).describe('Cross-entropy label smoothing.'),
          huber_delta: positive()
            .default(1)
            .describe('Where the Huber loss turns from quadratic to linear (in standardised target units).'),
        })
        .prefault({})
        .describe('The training loss.'),
      metrics: z
        .strictObject({
          primary: z
            .string()
            .min(1)
            .optional()
            .describe('The metric that ranks runs (default: val/acc for classification, val/r2 for regression).'),
          goal: Goal.default('auto').describe(
            'Whether lower (min) or higher (max) is better; auto: from the name (loss: min, acc: max).',
          ),
        })
        .prefault({})
        .describe('Which metric decides between runs.'),
      ...trainingSections,
    })
    .superRefine((config, context) => {
      const classification = config.data.kind === 'classification'
      const loss = config.loss.name
      if (loss !== 'auto' && (loss === 'cross_entropy') !== classification) {
        context.addIssue({
          code: 'custom',
          path: ['loss', 'name'],
          message: `${loss} does not fit ${config.data.kind}`,
          input: loss,
        })
      }
    })
    .describe('Tabular classification or regression.')

  return Tabular
}

/** The primary metric when the config names none. */
export const defaultPrimary = (config: {data: {kind: string}}): string =>
  config.data.kind === 'classification' ? 'val/acc' : 'val/r2'

export const recipe: Recipe = {
  task: 'tabular',
  summary: "MLP on a table: scikit-learn's bundled wine (classification) or diabetes (regression), or your CSV",
  keyMetrics: ['val/acc', 'val/f1', 'val/r2', 'val/rmse', 'val/mae', 'val/loss', 'train/loss'],
  evalMetrics: (config) =>
    config.task === 'tabular' && config.data.kind === 'regression' ? REGRESSION_METRICS : CLASSIFICATION_METRICS,
  distributed: true,
  inputs: (config) => dataFiles(config, ['csv'], 'file'),
}
