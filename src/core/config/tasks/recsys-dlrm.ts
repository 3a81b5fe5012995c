/** The recsys-dlrm task: its config's schema branch, its default primary metric, and what mlx knows of its recipe. */
import {dataFiles, type Recipe} from '../task.js'
import type * as Sections from '../sections.js'

/**
 * The task's branch of the config schema, made of zod and the shared sections that schema.ts hands in. This
 * module loads no zod itself, so a command that needs only the recipe facts below (compare) loads none either.
 */
export function schema({z, about, header, loaderFields, Metrics, trainingSections, taskLiteral}: typeof Sections) {
  /** How Criteo-layout files become batches: part of every recommendation source. */
  const criteoFields = {
    hash_size: z
      .int()
      .min(2)
      .default(10000)
      .describe('Embedding rows per categorical field: ids are hashed into them (row 0 is for a blank id).'),
    batch_size: z
      .int()
      .min(1)
      .default(512)
      .describe('Examples per batch (per optimiser step unless grad_accum_steps > 1).'),
    shuffle_buffer: z
      .int()
      .min(1)
      .default(65536)
      .describe('Training examples shuffled together as the file streams by (the order repeats with the seed).'),
    max_rows: z.int().min(1).nullable().default(null).describe('Train on the first N examples only (null: all).'),
    pin_memory: loaderFields.pin_memory,
  }

  const RecsysData = z
    .discriminatedUnion('source', [
      z
        .strictObject({
          source: z
            .literal('synthetic')
            .default('synthetic')
            .describe(
              'Click logs in the Criteo layout generated from a known model, so the best reachable AUC is known (offline; the default).',
            ),
          root: z
            .string()
            .min(1)
            .default('data/criteo-synthetic')
            .describe(
              'Where the generated files are kept (relative to the project root); made once per setting, then reused.',
            ),
          rows: z.int().min(100).default(200000).describe('Training examples to generate.'),
          val_rows: z.int().min(100).default(50000).describe('Validation examples to generate.'),
          cardinality: z
            .int()
            .min(2)
            .default(100)
            .describe('Distinct ids per categorical field (a few common, many rare).'),
          ...criteoFields,
        })
        .describe('Synthetic click logs (the default).'),
      z
        .strictObject({
          source: z
            .literal('criteo')
            .describe(
              "Criteo's click logs (Kaggle display-advertising or Terabyte): tab-separated label, 13 integer and 26 hexadecimal categorical features; read as a stream.",
            ),
          path: z.string().min(1).describe('The training file (relative to the project root).'),
          val_path: z
            .string()
            .min(1)
            .nullable()
            .default(null)
            .describe(
              'A validation file of the same layout (null: the last val_rows examples of path, as the Criteo papers hold out the last day).',
            ),
          val_rows: z
            .int()
            .min(1)
            .default(100000)
            .describe('With no val_path: how many examples at the end of path are held out.'),
          ...criteoFields,
        })
        .describe('Criteo files.'),
    ])
    .describe('The click logs and how they are batched: `source` picks them and their fields.')

  const RecsysDlrm = z
    .strictObject({
      ...header,
      task: taskLiteral('recsys-dlrm'),
      ...about,
      data: RecsysData.prefault({}),
      model: z
        .strictObject({
          arch: z
            .enum(['dlrm'])
            .default('dlrm')
            .describe(
              'dlrm: a bottom MLP on the dense features, an EmbeddingBag per categorical field, pairwise dot products of all of them, a top MLP.',
            ),
          embedding_dim: z.int().min(1).default(16).describe('Width of each embedding (and of the bottom MLP output).'),
          bottom_mlp: z
            .array(z.int().min(1))
            .min(1)
            .default([64, 16])
            .describe('Widths of the bottom MLP; the last equals embedding_dim.'),
          top_mlp: z
            .array(z.int().min(1))
            .default([64, 32])
            .describe('Hidden widths of the top MLP (a linear output follows).'),
        })
        .prefault({})
        .describe('The network.'),
      loss: z
        .strictObject({
          name: z
            .enum(['bce'])
            .default('bce')
            .describe('Binary cross-entropy on the click logit (BCEWithLogitsLoss); its mean is the log loss.'),
        })
        .prefault({})
        .describe('The training loss.'),
      metrics: Metrics('val/auc').prefault({}),
      ...trainingSections,
    })
    .superRefine((config, context) => {
      const last = config.model.bottom_mlp.at(-1)
      if (last !== config.model.embedding_dim) {
        context.addIssue({
          code: 'custom',
          path: ['model', 'bottom_mlp'],
          message: `the last width (${last}) must equal model.embedding_dim (${config.model.embedding_dim}): the dense vector meets the embeddings in dot products`,
          input: config.model.bottom_mlp,
        })
      }
    })
    .describe('Click-through prediction with DLRM.')

  return RecsysDlrm
}

/** The primary metric when the config names none. */
export const defaultPrimary = (): string => 'val/auc'

export const recipe: Recipe = {
  task: 'recsys-dlrm',
  summary:
    "DLRM click-through prediction on Criteo-layout logs: synthetic ones from a known model (offline), or Criteo's own",
  keyMetrics: ['val/auc', 'val/loss', 'val/calibration', 'train/loss'],
  evalMetrics: () => ['val/loss', 'val/auc', 'val/calibration'],
  distributed: false,
  inputs: (config) => dataFiles(config, ['criteo'], 'file'),
}
