/** The speech-recognition task: its config's schema branch, its default primary metric, and what mlx knows of its recipe. */
import {dataFiles, datasetRoot, type Recipe} from '../task.js'
import type * as Sections from '../sections.js'

/**
 * The task's branch of the config schema, made of zod and the shared sections that schema.ts hands in. This
 * module loads no zod itself, so a command that needs only the recipe facts below (compare) loads none either.
 */
export function schema({
  z,
  about,
  columnName,
  header,
  loaderFields,
  Metrics,
  trainingSections,
  taskLiteral,
}: typeof Sections) {
  /** How audio becomes features, and transcripts become targets: part of every speech source. */
  const speechFields = {
    sample_rate: z.int().min(1000).default(16000).describe('Audio is resampled to this rate (Hz).'),
    features: z
      .strictObject({
        n_mels: z.int().min(8).default(80).describe('Mel bands of the log-mel features.'),
        n_fft: z.int().min(16).default(400).describe('FFT size (samples): 25 ms at 16 kHz.'),
        hop_length: z.int().min(1).default(160).describe('Samples between frames: 10 ms at 16 kHz.'),
      })
      .prefault({})
      .describe("torchaudio's MelSpectrogram, then log and standardisation per utterance."),
    spec_augment: z
      .strictObject({
        freq_masks: z.int().min(0).default(2).describe('Frequency masks per training utterance.'),
        freq_width: z.int().min(1).default(10).describe('The widest frequency mask, in mel bands.'),
        time_masks: z.int().min(0).default(2).describe('Time masks per training utterance.'),
        time_width: z.int().min(1).default(20).describe('The widest time mask, in frames.'),
      })
      .nullable()
      .default(null)
      .describe('SpecAugment masking of training features (null: off).'),
    alphabet: z
      .string()
      .min(1)
      .default("abcdefghijklmnopqrstuvwxyz' ")
      .describe(
        'The characters the model spells (a space included); transcripts are lower-cased first. The CTC blank comes on top.',
      ),
    unknown_characters: z
      .enum(['error', 'drop'])
      .default('error')
      .describe(
        'A transcript with a character outside the alphabet: error stops with its file and line; drop leaves the utterance out (counted in a `dropped` event).',
      ),
    cache_features: z
      .boolean()
      .default(true)
      .describe(
        "Keep every utterance's features in memory once computed (decoding and resampling cost more than a training step); off for sets larger than memory. With num_workers > 0 each worker keeps its own.",
      ),
    ...loaderFields,
  }

  const SpeechData = z
    .discriminatedUnion('source', [
      z
        .strictObject({
          source: z
            .literal('demo')
            .default('demo')
            .describe(
              "Spoken digit strings and command words made with Debian's espeak-ng in several voices, speeds and pitches (offline; the default). The validation strings never occur in training.",
            ),
          root: z
            .string()
            .min(1)
            .default('data/speech-demo')
            .describe(
              'Where the generated audio and manifests are kept (relative to the project root); made once per setting, then reused.',
            ),
          utterances: z.int().min(20).default(1000).describe('Utterances to synthesise.'),
          ...speechFields,
        })
        .describe('The espeak-ng demo set (the default).'),
      z
        .strictObject({
          source: z
            .literal('manifest')
            .describe(
              'A manifest of yours: JSON Lines (one object per line) or CSV (a header row), an audio path and a transcript per utterance.',
            ),
          path: z
            .string()
            .min(1)
            .describe(
              'The training manifest (relative to the project root); audio paths in it are relative to its folder.',
            ),
          val_path: z
            .string()
            .min(1)
            .nullable()
            .default(null)
            .describe('A validation manifest (null: split val_fraction off the training one with the seed).'),
          audio_field: columnName().default('audio').describe('The field (or CSV column) holding the audio path.'),
          text_field: columnName().default('text').describe('The field (or CSV column) holding the transcript.'),
          ...speechFields,
        })
        .describe('A manifest.'),
      z
        .strictObject({
          source: z
            .literal('librispeech')
            .describe(
              'LibriSpeech through torchaudio.datasets.LIBRISPEECH: read from root; downloaded there first when missing and download is true.',
            ),
          root: z
            .string()
            .min(1)
            .default('data')
            .describe('The folder holding LibriSpeech/ (relative to the project root).'),
          url: z
            .enum([
              'train-clean-100',
              'train-clean-360',
              'train-other-500',
              'dev-clean',
              'dev-other',
              'test-clean',
              'test-other',
            ])
            .default('train-clean-100')
            .describe('The part to train on.'),
          val_url: z
            .enum(['dev-clean', 'dev-other', 'test-clean', 'test-other'])
            .default('dev-clean')
            .describe('The part to validate on.'),
          download: z
            .boolean()
            .default(true)
            .describe(
              'Download the parts when they are missing (needs the network; offline, the error says where to put them).',
            ),
          ...speechFields,
          cache_features: z
            .boolean()
            .default(false)
            .describe(
              "Keep every utterance's features in memory once computed (off: LibriSpeech's 100 hours of features take ~13 GB).",
            ),
        })
        .describe('LibriSpeech.'),
    ])
    .describe('The utterances and how they are batched: `source` picks them and their fields.')

  const SpeechRecognition = z
    .strictObject({
      ...header,
      task: taskLiteral('speech-recognition'),
      ...about,
      data: SpeechData.prefault({}),
      model: z
        .strictObject({
          arch: z
            .enum(['cnn_bilstm'])
            .default('cnn_bilstm')
            .describe(
              "cnn_bilstm: the guide's acoustic model, two strided conv blocks (time and frequency down by 4), a bidirectional LSTM, a linear layer over the characters and the blank.",
            ),
          channels: z.int().min(1).default(32).describe('Channels of the conv blocks.'),
          hidden: z.int().min(1).default(128).describe('LSTM units per direction.'),
          layers: z.int().min(1).default(2).describe('Stacked LSTM layers.'),
          dropout: z
            .number()
            .min(0)
            .lt(1)
            .default(0.1)
            .describe('Dropout between LSTM layers and before the output layer.'),
        })
        .prefault({})
        .describe('The network.'),
      loss: z
        .strictObject({
          name: z
            .enum(['ctc'])
            .default('ctc')
            .describe('Connectionist temporal classification (nn.CTCLoss, blank 0) over the characters.'),
        })
        .prefault({})
        .describe('The training loss.'),
      metrics: Metrics('val/cer').prefault({}),
      ...trainingSections,
    })
    .superRefine((config, context) => {
      const characters = [...config.data.alphabet]
      if (new Set(characters).size !== characters.length)
        context.addIssue({
          code: 'custom',
          path: ['data', 'alphabet'],
          message: 'a character appears twice in the alphabet',
          input: config.data.alphabet,
        })
      if (config.data.alphabet !== config.data.alphabet.toLowerCase())
        context.addIssue({
          code: 'custom',
          path: ['data', 'alphabet'],
          message: 'transcripts are lower-cased: the alphabet must be lower-case too',
          input: config.data.alphabet,
        })
    })
    .describe('Speech recognition with CTC.')

  return SpeechRecognition
}

/** The primary metric when the config names none. */
export const defaultPrimary = (): string => 'val/cer'

export const recipe: Recipe = {
  task: 'speech-recognition',
  summary:
    'CTC speech recognition (log-mel features, CNN + BiLSTM, greedy decoding) on digits and words spoken by espeak-ng (offline), your manifest or LibriSpeech',
  keyMetrics: ['val/cer', 'val/wer', 'val/loss', 'train/loss'],
  evalMetrics: () => ['val/loss', 'val/cer', 'val/wer'],
  distributed: false,
  inputs: (config) => [...dataFiles(config, ['manifest'], 'file'), ...datasetRoot(config, ['librispeech'])],
}
