/** The image-classification task: its config's schema branch, its default primary metric, and what mlx knows of its recipe. */
import {CLASSIFICATION_METRICS, dataFiles, datasetRoot, type Recipe} from '../task.js'
import type * as Sections from '../sections.js'

/**
 * The task's branch of the config schema, made of zod and the shared sections that schema.ts hands in. This
 * module loads no zod itself, so a command that needs only the recipe facts below (compare) loads none either.
 */
export function schema({
  z,
  about,
  classificationSections,
  header,
  loaderFields,
  splitFields,
  taskLiteral,
}: typeof Sections) {
  const Transforms = z
    .strictObject({
      resize: z
        .int()
        .min(8)
        .nullable()
        .default(null)
        .describe(
          'Resize (shorter side) and centre-crop every image to this square size (null: as the source gives them).',
        ),
      normalize: z
        .boolean()
        .default(true)
        .describe('Standardise each channel with the mean and deviation of the training images.'),
      horizontal_flip: z.boolean().default(false).describe('Training images flipped left-right at random.'),
      rotation: z
        .number()
        .min(0)
        .max(180)
        .default(0)
        .describe('Training images rotated at random by up to this many degrees.'),
      random_crop_padding: z
        .int()
        .min(0)
        .nullable()
        .default(null)
        .describe('Training images padded by this many pixels, then cropped back at a random place (null: off).'),
      augment: z
        .enum(['none', 'randaugment', 'autoaugment'])
        .default('none')
        .describe(
          'A learned augmentation policy for the training images: RandAugment or AutoAugment (ImageNet policy).',
        ),
    })
    .describe('How images are prepared: resizing and normalisation for all, augmentation for training images only.')

  const imageLoaderFields = {
    ...loaderFields,
    ...splitFields,
    transforms: Transforms.prefault({}),
    persistent_workers: z
      .boolean()
      .default(false)
      .describe('Keep DataLoader workers alive between epochs (needs num_workers > 0).'),
  }

  const torchvisionSet = (name: string, what: string) =>
    z
      .strictObject({
        source: z
          .literal(name)
          .describe(
            `${what} through torchvision: read from root; downloaded there first when missing and download is true.`,
          ),
        root: z
          .string()
          .min(1)
          .default('data')
          .describe('The folder holding the dataset (relative to the project root).'),
        download: z
          .boolean()
          .default(true)
          .describe(
            'Download the files when they are missing (needs the network; offline, the error says where to put them).',
          ),
        ...imageLoaderFields,
      })
      .describe(`${what}.`)

  const ImageData = z
    .discriminatedUnion('source', [
      z
        .strictObject({
          source: z
            .literal('digits')
            .default('digits')
            .describe("scikit-learn's bundled 8x8 greyscale digits (1,797 images, offline; the default)."),
          ...imageLoaderFields,
        })
        .describe('digits (the default).'),
      torchvisionSet('mnist', 'MNIST (28x28 greyscale digits, 60,000 training images)'),
      torchvisionSet('fashion-mnist', 'Fashion-MNIST (28x28 greyscale clothing, 10 classes)'),
      torchvisionSet('cifar10', 'CIFAR-10 (32x32 colour, 10 classes)'),
      z
        .strictObject({
          source: z
            .literal('imagefolder')
            .describe('A folder of yours with one subfolder of images per class (PNG, JPEG...).'),
          path: z.string().min(1).describe('The training folder (relative to the project root).'),
          val_path: z
            .string()
            .min(1)
            .nullable()
            .default(null)
            .describe(
              'A validation folder with the same class subfolders (null: split val_fraction off the training folder with the seed).',
            ),
          image_size: z
            .int()
            .min(8)
            .default(64)
            .describe('Images are resized (shorter side) and centre-cropped to this square size.'),
          ...imageLoaderFields,
        })
        .describe('An image folder.'),
      z
        .strictObject({
          source: z
            .literal('synthetic')
            .describe("Random images and labels (torchvision's FakeData), for smoke tests: nothing to learn."),
          samples: z.int().min(10).default(512).describe('How many images.'),
          classes: z.int().min(2).default(10).describe('How many classes.'),
          image_size: z.int().min(8).default(32).describe('Square size of the images.'),
          channels: z
            .union([z.literal(1), z.literal(3)])
            .default(3)
            .describe('1 (greyscale) or 3 (colour).'),
          ...imageLoaderFields,
        })
        .describe('Synthetic images.'),
    ])
    .describe('The images and how they are batched: `source` picks them and their fields.')

  const TORCHVISION_ARCHS = ['resnet18', 'resnet50', 'efficientnet_b0'] as const

  const ImageClassification = z
    .strictObject({
      ...header,
      task: taskLiteral('image-classification'),
      ...about,
      data: ImageData.prefault({}),
      model: z
        .strictObject({
          arch: z
            .enum(['cnn', 'mlp', ...TORCHVISION_ARCHS])
            .default('cnn')
            .describe(
              'cnn: the guide Backbone (two conv blocks, adaptive pooling) + linear Classifier; mlp: flattened pixels through linear layers; resnet18, resnet50, efficientnet_b0: torchvision models with a new head.',
            ),
          channels: z
            .tuple([z.int().min(1), z.int().min(1)])
            .default([32, 64])
            .describe('cnn: output channels of the two conv blocks.'),
          hidden: z.array(z.int().min(1)).min(1).default([256]).describe('mlp: widths of the hidden layers.'),
          dropout: z.number().min(0).lt(1).default(0.1).describe('Dropout before the linear head.'),
          pretrained: z
            .boolean()
            .default(false)
            .describe(
              "torchvision models: start from torchvision's ImageNet weights, read from the torch hub cache (offline, the error names the file and where to put it).",
            ),
          freeze: z
            .enum(['none', 'backbone'])
            .default('none')
            .describe('backbone: train only the head (transfer learning), until unfreeze_at_epoch.'),
          unfreeze_at_epoch: z
            .int()
            .min(2)
            .nullable()
            .default(null)
            .describe('With freeze: backbone, the epoch from which the whole network trains (null: never).'),
        })
        .prefault({})
        .describe('The network.'),
      ...classificationSections,
    })
    .superRefine((config, context) => {
      const problem = (path: string[], message: string) =>
        context.addIssue({code: 'custom', path, message, input: undefined})
      if (config.data.persistent_workers && config.data.num_workers === 0)
        problem(['data', 'persistent_workers'], 'persistent_workers needs num_workers > 0')
      const torchvisionModel = (TORCHVISION_ARCHS as readonly string[]).includes(config.model.arch)
      if (config.model.pretrained && !torchvisionModel)
        problem(
          ['model', 'pretrained'],
          `pretrained weights exist for ${TORCHVISION_ARCHS.join(', ')}, not ${config.model.arch}`,
        )
      if (config.model.freeze === 'backbone' && config.model.arch === 'mlp')
        problem(['model', 'freeze'], 'an mlp has no backbone to freeze')
      if (config.model.unfreeze_at_epoch !== null && config.model.freeze !== 'backbone')
        problem(['model', 'unfreeze_at_epoch'], 'unfreeze_at_epoch needs freeze: backbone')
    })
    .describe('Image classification.')

  return ImageClassification
}

/** The primary metric when the config names none. */
export const defaultPrimary = (): string => 'val/acc'

export const recipe: Recipe = {
  task: 'image-classification',
  summary:
    "the guide's CNN, an MLP or torchvision ResNet/EfficientNet on digits (bundled), MNIST, Fashion-MNIST, CIFAR-10, your image folder or synthetic images",
  keyMetrics: ['val/acc', 'val/f1', 'val/loss', 'train/loss'],
  evalMetrics: () => CLASSIFICATION_METRICS,
  distributed: true,
  inputs: (config) => [
    ...dataFiles(config, ['imagefolder'], 'directory'),
    ...datasetRoot(config, ['mnist', 'fashion-mnist', 'cifar10']),
  ],
}
