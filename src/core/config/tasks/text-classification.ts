/** The text-classification task: its config's schema branch, its default primary metric, and what mlx knows of its recipe. */
import {CLASSIFICATION_METRICS, dataFiles, sectionOf, type InputPath, type Recipe} from '../task.js'
import type * as Sections from '../sections.js'

/**
 * The task's branch of the config schema, made of zod and the shared sections that schema.ts hands in. This
 * module loads no zod itself, so a command that needs only the recipe facts below (compare) loads none either.
 */
export function schema({
  z,
  about,
  columnName,
  classificationSections,
  header,
  loaderFields,
  splitFields,
  taskLiteral,
}: typeof Sections) {
  /** How texts become tokens and tokens become ids: part of every text source. */
  const textFields = {
    tokenizer: z
      .strictObject({
        lowercase: z.boolean().default(true).describe('Lower-case the text before splitting it.'),
        pattern: z
          .string()
          .min(1)
          .default("[a-z0-9]+(?:'[a-z]+)?")
          .describe('A regular expression (Python re) matching one token; everything between tokens is dropped.'),
        max_length: z.int().min(1).default(256).describe('Tokens kept per text (the first ones).'),
      })
      .prefault({})
      .describe('How texts become tokens (basic English: lower-case words and numbers).'),
    vocab: z
      .strictObject({
        min_freq: z.int().min(1).default(2).describe('Tokens seen fewer times in the training texts become <unk>.'),
        max_size: z
          .int()
          .min(10)
          .default(20000)
          .describe('At most this many tokens (the most frequent), plus <pad> and <unk>.'),
      })
      .prefault({})
      .describe('The vocabulary, built from the training texts only and saved with each checkpoint.'),
  }

  const textFile = (source: string, what: string, fields: Record<string, Sections.z.ZodType>) =>
    z
      .strictObject({
        source: z.literal(source).describe(what),
        path: z.string().min(1).describe('The training file (relative to the project root).'),
        val_path: z
          .string()
          .min(1)
          .nullable()
          .default(null)
          .describe('A validation file of the same layout (null: split val_fraction off the training file).'),
        ...fields,
        ...textFields,
        ...loaderFields,
        ...splitFields,
      })
      .describe(what)

  const TextData = z
    .discriminatedUnion('source', [
      z
        .strictObject({
          source: z
            .literal('fortunes')
            .default('fortunes')
            .describe("Quotations from Debian's fortunes package, one class per topic file (offline; the default)."),
          directory: z
            .string()
            .min(1)
            .default('/usr/share/games/fortunes')
            .describe('Where the fortunes package keeps its topic files.'),
          topics: z
            .array(z.string().min(1))
            .min(2)
            .default(['computers', 'food', 'politics', 'science', 'sports'])
            .describe('The topic files that become the classes.'),
          ...textFields,
          ...loaderFields,
          ...splitFields,
        })
        .describe('fortunes topics (the default).'),
      textFile('csv', 'A CSV file with a header: a text column and a label column.', {
        text_column: columnName().default('text').describe('The column holding the text.'),
        label_column: columnName().default('label').describe('The column holding the class.'),
        delimiter: z.string().length(1).default(',').describe('The field delimiter.'),
      }),
      textFile('jsonl', 'JSON Lines: one object per line with a text field and a label field.', {
        text_field: columnName().default('text').describe('The field holding the text.'),
        label_field: columnName().default('label').describe('The field holding the class.'),
      }),
      textFile('ag_news', 'The AG_NEWS CSV layout: no header; class index (1-4), title, description.', {}),
    ])
    .describe('The texts and how they are batched: `source` picks them and their fields.')

  const TextClassification = z
    .strictObject({
      ...header,
      task: taskLiteral('text-classification'),
      ...about,
      data: TextData.prefault({}),
      model: z
        .strictObject({
          arch: z
            .enum(['embedding_bag', 'textcnn', 'bilstm', 'huggingface'])
            .default('embedding_bag')
            .describe(
              "embedding_bag: the guide's baseline, a mean of token embeddings (EmbeddingBag with offsets) then linear; textcnn: convolutions of several widths with max pooling; bilstm: a bidirectional LSTM, mean-pooled; huggingface: a transformers model and its tokenizer from a local folder (hf_path), with a new classification head.",
            ),
          embed_dim: z.int().min(1).default(64).describe('Width of the token embeddings.'),
          pooling: z
            .enum(['mean', 'idf'])
            .default('mean')
            .describe(
              "embedding_bag: how a text's token embeddings are averaged. mean: each token alike; idf: each token weighted by its inverse document frequency in the training texts (log((1 + n) / (1 + df)) + 1, as scikit-learn's TfidfVectorizer), so words every topic uses count less.",
            ),
          hidden: z.int().min(1).default(64).describe('bilstm: hidden units per direction.'),
          kernel_sizes: z
            .array(z.int().min(1))
            .min(1)
            .default([3, 4, 5])
            .describe('textcnn: convolution widths, in tokens.'),
          filters: z.int().min(1).default(64).describe('textcnn: filters per width.'),
          dropout: z.number().min(0).lt(1).default(0.2).describe('Dropout before the linear head.'),
          hf_path: z
            .string()
            .min(1)
            .nullable()
            .default(null)
            .describe(
              'huggingface: a folder written by save_pretrained (config, weights, tokenizer), relative to the project root; needs the transformers package.',
            ),
        })
        .prefault({})
        .describe('The network.'),
      ...classificationSections,
    })
    .superRefine((config, context) => {
      if (config.model.arch === 'huggingface' && config.model.hf_path === null) {
        context.addIssue({
          code: 'custom',
          path: ['model', 'hf_path'],
          message: 'model.arch huggingface needs hf_path: the folder of a model saved with save_pretrained',
          input: undefined,
        })
      }
      if (config.model.pooling !== 'mean' && config.model.arch !== 'embedding_bag') {
        context.addIssue({
          code: 'custom',
          path: ['model', 'pooling'],
          message: `model.pooling ${config.model.pooling} applies to model.arch embedding_bag only, not ${config.model.arch}`,
          input: undefined,
        })
      }
    })
    .describe('Text classification.')

  return TextClassification
}

/** The primary metric when the config names none. */
export const defaultPrimary = (): string => 'val/acc'

export const recipe: Recipe = {
  task: 'text-classification',
  summary:
    "EmbeddingBag baseline, TextCNN or BiLSTM on topics from Debian's fortunes, or your CSV, JSON Lines or AG_NEWS files",
  keyMetrics: ['val/f1', 'val/acc', 'val/loss', 'train/loss'],
  evalMetrics: () => CLASSIFICATION_METRICS,
  distributed: false,
  inputs: (config) => {
    const data = sectionOf(config, 'data')
    const fortunes: InputPath[] =
      data.source === 'fortunes'
        ? [
            {
              key: ['data', 'directory'],
              kind: 'directory',
              hint: "Debian's fortunes package keeps its topics there (apt-get install fortunes)",
            },
          ]
        : []
    const model: InputPath[] =
      sectionOf(config, 'model').arch === 'huggingface'
        ? [
            {
              key: ['model', 'hf_path'],
              kind: 'directory',
              hint: 'a folder written by save_pretrained: config, weights, tokenizer',
            },
          ]
        : []
    return [...fortunes, ...dataFiles(config, ['csv', 'jsonl', 'ag_news'], 'file'), ...model]
  },
}
