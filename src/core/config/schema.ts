/**
 * The experiment config: one zod schema is the source of truth for the TypeScript
 * types, validation, defaults, the JSON Schema (`mlx schema`) and the field reference
 * (docs/config-reference.md). Every object is strict (an unknown key is an error) and
 * every section has defaults, so the DESIGN.md minimal config is complete once parsed.
 *
 * Sections whose fields depend on a choice are discriminated unions: `task` picks the
 * recipe (and so the `data` and `model` fields), `optim.name` the optimiser's fields,
 * `scheduler.name` the schedule's. A missing `optim.name` or `scheduler.name` means the
 * default branch.
 *
 * `.prefault({})` (not `.default({})`) makes a missing section parse as `{}`, so the
 * section's own field defaults fill it. Defaults that depend on other fields (the goal of
 * a metric, what early stopping watches) are filled after parsing, by `fillDerived`.
 */
import {z} from 'zod'
import {metricGoal, type Goal} from '../metrics/goal.js'
import {NAME_MAX_LENGTH, NAME_PATTERN, NAME_RULE} from '../names.js'

const devicePattern = /^(auto|cpu|cuda(:\d+)?)$/

const Goal = z.enum(['min', 'max', 'auto'])
const positive = () => z.number().positive()
const fraction = () => z.number().gt(0).lt(1)

// -----------------------------------------------------------------------------
// optim

const weightDecay = (value: number, how: string) => z.number().min(0).default(value).describe(`Weight decay (${how}).`)
const betas = z
  .tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)])
  .default([0.9, 0.999])
  .describe('Coefficients of the running averages of the gradient and its square.')
const eps = positive().default(1e-8).describe('Added to the denominator for numerical stability.')

const adamFields = {lr: positive().default(0.001).describe('Learning rate.'), betas, eps}

const Adam = z
  .strictObject({
    name: z.literal('adam').default('adam').describe('Adam (the default).'),
    ...adamFields,
    weight_decay: weightDecay(0, 'an L2 penalty added to the gradient'),
  })
  .describe('Adam.')

const AdamW = z
  .strictObject({
    name: z.literal('adamw').describe('AdamW: Adam with decoupled weight decay.'),
    ...adamFields,
    weight_decay: weightDecay(0.01, 'decoupled from the gradient'),
  })
  .describe('AdamW.')

const Sgd = z
  .strictObject({
    name: z.literal('sgd').describe('Stochastic gradient descent.'),
    lr: positive().default(0.01).describe('Learning rate.'),
    momentum: z.number().min(0).lt(1).default(0.9).describe('Momentum factor (0 for none).'),
    nesterov: z.boolean().default(false).describe('Nesterov momentum (needs momentum > 0).'),
    weight_decay: weightDecay(0, 'an L2 penalty added to the gradient'),
  })
  .refine((sgd) => !sgd.nesterov || sgd.momentum > 0, {path: ['nesterov'], error: 'Nesterov momentum needs momentum > 0'})
  .describe('SGD with momentum.')

const Optim = z.discriminatedUnion('name', [Adam, AdamW, Sgd]).describe('The optimiser: `name` picks it and its fields.')

// -----------------------------------------------------------------------------
// scheduler

const Scheduler = z
  .discriminatedUnion('name', [
    z.strictObject({name: z.literal('none').default('none').describe('A constant learning rate (the default).')}).describe('No schedule.'),
    z
      .strictObject({
        name: z.literal('step').describe('Multiply the learning rate by gamma every step_size epochs (StepLR).'),
        step_size: z.int().min(1).default(10).describe('Epochs between decays.'),
        gamma: z.number().gt(0).max(1).default(0.1).describe('Factor applied at each decay.'),
      })
      .describe('StepLR, per epoch.'),
    z
      .strictObject({
        name: z.literal('multistep').describe('Multiply the learning rate by gamma at each milestone epoch (MultiStepLR).'),
        milestones: z
          .array(z.int().min(1))
          .min(1)
          .refine((list) => list.every((value, i) => i === 0 || value > list[i - 1]!), {error: 'milestones must increase'})
          .describe('Epochs at which to decay, increasing.'),
        gamma: z.number().gt(0).max(1).default(0.1).describe('Factor applied at each milestone.'),
      })
      .describe('MultiStepLR, per epoch.'),
    z
      .strictObject({
        name: z.literal('cosine').describe('Cosine annealing from optim.lr to min_lr over the whole run, per step.'),
        min_lr: z.number().min(0).default(0).describe('Learning rate at the end.'),
      })
      .describe('CosineAnnealingLR, per step.'),
    z
      .strictObject({
        name: z.literal('warmup_cosine').describe('Linear warmup from 0 to optim.lr, then cosine annealing to min_lr, per step.'),
        warmup_epochs: z.number().min(0).default(1).describe('Length of the warmup, in epochs (fractions allowed).'),
        min_lr: z.number().min(0).default(0).describe('Learning rate at the end.'),
      })
      .describe('Linear warmup + cosine, per step.'),
    z
      .strictObject({
        name: z.literal('onecycle').describe('The one-cycle policy (OneCycleLR), per step.'),
        max_lr: positive().optional().describe('Peak learning rate (default: optim.lr).'),
        pct_start: fraction().default(0.3).describe('Share of the run spent increasing the learning rate.'),
        div_factor: positive().default(25).describe('Initial learning rate = max_lr / div_factor.'),
        final_div_factor: positive().default(10000).describe('Final learning rate = initial / final_div_factor.'),
      })
      .describe('OneCycleLR, per step.'),
    z
      .strictObject({
        name: z.literal('plateau').describe('Reduce the learning rate when a metric stops improving (ReduceLROnPlateau), after each evaluation.'),
        monitor: z.string().min(1).default('val/loss').describe('The metric watched.'),
        mode: Goal.default('auto').describe('min or max; auto: from the metric name (loss: min, acc: max).'),
        factor: fraction().default(0.1).describe('Factor applied at each reduction.'),
        patience: z.int().min(0).default(2).describe('Evaluations without improvement before a reduction.'),
        min_lr: z.number().min(0).default(0).describe('Lower bound of the learning rate.'),
      })
      .describe('ReduceLROnPlateau, per evaluation.'),
  ])
  .describe('The learning-rate schedule: `name` picks it and its fields.')

// -----------------------------------------------------------------------------
// train

const EarlyStopping = z
  .strictObject({
    monitor: z.string().min(1).optional().describe('The metric watched (default: metrics.primary).'),
    mode: Goal.default('auto').describe('min or max; auto: from the metric name.'),
    patience: z.int().min(1).default(5).describe('Evaluations without improvement before stopping.'),
    min_delta: z.number().min(0).default(0).describe('The least change that counts as an improvement.'),
  })
  .describe('Stop when the monitored metric stops improving.')

const Checkpoint = z
  .strictObject({
    every_epochs: z.int().min(0).default(0).describe('Save every N epochs (0: only the last and the best).'),
    best: z.boolean().default(true).describe('Keep a checkpoint of the best value of monitor.'),
    monitor: z.string().min(1).optional().describe('The metric that decides the best checkpoint (default: metrics.primary).'),
    mode: Goal.default('auto').describe('min or max; auto: from the metric name.'),
    keep_last: z.int().min(1).default(3).describe('How many periodic checkpoints to keep.'),
  })
  .describe('When checkpoints are written and how many are kept.')

const Divergence = z
  .strictObject({
    factor: positive().nullable().default(1000).describe('A training loss above factor times its mean over the first early_steps steps has diverged (null: no bound relative to the early loss).'),
    threshold: positive().nullable().default(null).describe("A training loss above this has diverged, as Lightning's divergence_threshold (null: no absolute bound)."),
    early_steps: z.int().min(1).max(100_000).default(20).describe('The first steps whose mean loss is the early loss.'),
  })
  .describe('When the training loss has diverged besides not being finite (gradient clipping keeps an exploding loss finite): the run stops as diverged, its last good state saved.')

const Train = z
  .strictObject({
    epochs: z.int().min(1).default(10).describe('Passes over the training set.'),
    max_steps: z.int().min(1).nullable().default(null).describe('Stop after this many optimiser steps, even mid-epoch (null: no limit).'),
    log_every: z.int().min(1).max(1_000_000).default(10).describe('Log train metrics every N optimiser steps (and at each epoch end).'),
    eval_every: z.int().min(1).max(1_000_000).default(1).describe('Validate every N epochs (and after the last).'),
    amp: z
      .union([z.literal(false), z.enum(['bf16', 'fp16'])])
      .default(false)
      .describe('Mixed precision: false, bf16 (CPU or CUDA) or fp16 (CUDA, with a gradient scaler).'),
    grad_clip: positive().nullable().default(null).describe('Clip the gradient norm to this value (null: no clipping).'),
    grad_accum_steps: z.int().min(1).max(65_536).default(1).describe('Batches whose gradients add up before each optimiser step (at most an epoch: a longer window ends with the epoch, and the run says so).'),
    divergence: Divergence.nullable().prefault({}).describe('When a run has diverged (null: only when its loss is NaN or infinite).'),
    early_stopping: EarlyStopping.nullable().default(null).describe('Stop when the monitored metric stops improving (null: off).'),
    checkpoint: Checkpoint.prefault({}),
    deterministic: z.boolean().default(false).describe('torch.use_deterministic_algorithms and deterministic cuDNN (slower; same results on the same machine). Off: the cuDNN autotuner picks the fastest kernels.'),
    compile: z.boolean().default(false).describe('torch.compile the model (needs a C++ compiler; the first steps are slow while it compiles).'),
    channels_last: z.boolean().default(false).describe('Channels-last memory format for the model and its inputs (faster convolutions on recent GPUs).'),
    tensorboard: z.boolean().default(true).describe('Also write TensorBoard event files into the run directory.'),
    artifacts: z.boolean().default(true).describe('At the end, save the analysis artifacts of the recipe (for images: the confusion matrix and misclassified samples).'),
  })
  .describe('The training loop.')

// -----------------------------------------------------------------------------
// launch

const slurmValue = (what: string) => z.string().min(1).max(200).regex(/^[^\s'"\\\p{Cc}]+$/u, {error: `expected ${what}, without spaces, quotes or control characters`})

const Slurm = z
  .strictObject({
    partition: slurmValue('a partition name').nullable().default(null).describe('sbatch --partition (null: the cluster default).'),
    nodes: z.int().min(1).max(10_000).default(1).describe('sbatch --nodes: one task per node, running torchrun there.'),
    gpus_per_node: z.int().min(0).max(64).default(0).describe('sbatch --gpus-per-node (0: none asked for); with nproc_per_node auto, one process per GPU.'),
    cpus_per_task: z.int().min(1).nullable().default(null).describe('sbatch --cpus-per-task: CPUs for each node\'s processes (null: the cluster default).'),
    mem: z.string().regex(/^\d+[KMGT]?$/, {error: 'expected a size such as 32G'}).nullable().default(null).describe('sbatch --mem, per node (32G).'),
    time: z
      .string()
      .regex(/^(\d+-)?\d+(:\d{1,2}){0,2}$/, {error: 'expected a time limit such as 90, 1:30:00 or 2-00:00:00'})
      .nullable()
      .default(null)
      .describe('sbatch --time: the limit (minutes, HH:MM:SS or D-HH:MM:SS).'),
    account: slurmValue('an account').nullable().default(null).describe('sbatch --account.'),
    qos: slurmValue('a QOS').nullable().default(null).describe('sbatch --qos.'),
    extra: z
      .array(z.string().max(1000).regex(/^--?[A-Za-z][^\p{Cc}]*$/u, {error: 'expected an sbatch option such as --constraint=a100, on one line'}))
      .default([])
      .describe('More sbatch options, one #SBATCH line each (--constraint=a100, --exclusive).'),
  })
  .describe('launch.launcher: slurm: what the batch job asks for.')

const Launch = z
  .strictObject({
    launcher: z
      .enum(['local', 'torchrun', 'slurm'])
      .default('local')
      .describe('How the script runs: local (one process on this machine), torchrun (data-parallel processes on this node, with other nodes through a c10d rendezvous), slurm (a batch job: torchrun on each of its nodes).'),
    device: z.string().regex(devicePattern, {error: 'expected auto, cpu, cuda or cuda:N'}).default('auto').describe('auto (CUDA when visible, else CPU), cpu, cuda or cuda:N.'),
    gpus: z
      .union([z.literal('all'), z.int().min(0), z.array(z.int().min(0)).min(1)])
      .default('all')
      .describe('GPUs the run may see (CUDA_VISIBLE_DEVICES): all, a count (the first N), or a list of ids.'),
    python: z.string().min(1).optional().describe('Python interpreter for this experiment (after --python and MLX_PYTHON; before mlx.yaml).'),
    nproc_per_node: z
      .union([z.literal('auto'), z.int().min(1).max(1024)])
      .default('auto')
      .describe('torchrun: processes on each node; auto: one per visible GPU when the run trains on CUDA, else 1 (a number N: N CPU processes with gloo). data.batch_size is per process.'),
    nnodes: z.int().min(1).max(10_000).default(1).describe('torchrun: how many nodes train together (run the same mlx run on each, with its node_rank).'),
    node_rank: z.int().min(0).default(0).describe('torchrun: this node (0 hosts the run record and ingests the metrics; the others join it).'),
    rdzv_backend: z.enum(['c10d']).default('c10d').describe("torchrun: the rendezvous (torch's c10d store, on the endpoint's host)."),
    rdzv_endpoint: z
      .string()
      .regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, {error: 'expected HOST:PORT'})
      .nullable()
      .default(null)
      .describe('torchrun: HOST:PORT where the nodes meet (needed with nnodes > 1; null: one node, a free local port).'),
    max_restarts: z.int().min(0).max(100).default(0).describe('torchrun: times the workers are restarted after a failure; each restart goes on from the newest checkpoint.'),
    slurm: Slurm.prefault({}),
  })
  .superRefine((launch, context) => {
    const problem = (path: string, message: string) => context.addIssue({code: 'custom', path: [path], message, input: undefined})
    if (launch.node_rank >= launch.nnodes) problem('node_rank', `node_rank must be below nnodes (${launch.nnodes})`)
    if (launch.nnodes > 1 && launch.rdzv_endpoint === null) problem('rdzv_endpoint', 'several nodes meet at a rendezvous endpoint: set rdzv_endpoint to HOST:PORT of node 0')
    if (launch.launcher === 'local' && (launch.nnodes > 1 || launch.max_restarts > 0)) {
      problem(launch.nnodes > 1 ? 'nnodes' : 'max_restarts', 'needs launch.launcher: torchrun')
    }
    if (launch.launcher === 'slurm' && launch.nnodes > 1) problem('nnodes', 'with Slurm, the job\'s nodes are launch.slurm.nodes (mlx runs torchrun on each)')
  })
  .describe('How and where the training script is launched.')

// -----------------------------------------------------------------------------
// the whole config, per task

const Metrics = (primary: string) =>
  z
    .strictObject({
      primary: z.string().min(1).default(primary).describe('The metric that ranks runs (mlx runs, early stopping and best checkpoints by default).'),
      goal: Goal.default('auto').describe('Whether lower (min) or higher (max) is better; auto: from the name (loss: min, acc: max).'),
    })
    .describe('Which metric decides between runs.')

const header = {
  extends: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .optional()
    .describe('Base config file(s) to start from, relative to this file; later ones and this file win.'),
  name: z.string().max(NAME_MAX_LENGTH).regex(NAME_PATTERN, {error: NAME_RULE}).describe('Experiment name; runs are listed and compared by it.'),
}

const about = {
  description: z.string().max(10_000).default('').describe('Free text about the experiment, kept with each run.'),
  tags: z.array(z.string().min(1).max(100)).default([]).describe('Labels for finding runs.'),
  seed: z.int().min(0).default(0).describe('Seeds Python, NumPy and PyTorch; also fixes the train/val split.'),
}

const trainingSections = {
  optim: Optim.prefault({}),
  scheduler: Scheduler.prefault({}),
  train: Train.prefault({}),
  launch: Launch.prefault({}),
}

const loaderFields = {
  batch_size: z.int().min(1).default(64).describe('Samples per batch (per optimiser step unless grad_accum_steps > 1).'),
  val_fraction: fraction().default(0.2).describe('Share of the data held out for validation (fixed seed; stratified for classification).'),
  num_workers: z.int().min(0).default(0).describe('DataLoader worker processes.'),
  pin_memory: z.union([z.literal('auto'), z.boolean()]).default('auto').describe('Page-locked batches for faster copies to the GPU; auto: when training on CUDA.'),
}

/** The loss, metrics and training sections of the recipes that classify with cross-entropy. */
const classificationSections = {
  loss: z
    .strictObject({
      name: z.enum(['cross_entropy']).default('cross_entropy').describe('Training loss.'),
      label_smoothing: z.number().min(0).lt(1).default(0).describe('Cross-entropy label smoothing.'),
    })
    .prefault({})
    .describe('The training loss.'),
  metrics: Metrics('val/acc').prefault({}),
  ...trainingSections,
}

const Transforms = z
  .strictObject({
    resize: z.int().min(8).nullable().default(null).describe('Resize (shorter side) and centre-crop every image to this square size (null: as the source gives them).'),
    normalize: z.boolean().default(true).describe('Standardise each channel with the mean and deviation of the training images.'),
    horizontal_flip: z.boolean().default(false).describe('Training images flipped left-right at random.'),
    rotation: z.number().min(0).max(180).default(0).describe('Training images rotated at random by up to this many degrees.'),
    random_crop_padding: z.int().min(0).nullable().default(null).describe('Training images padded by this many pixels, then cropped back at a random place (null: off).'),
    augment: z.enum(['none', 'randaugment', 'autoaugment']).default('none').describe('A learned augmentation policy for the training images: RandAugment or AutoAugment (ImageNet policy).'),
  })
  .describe('How images are prepared: resizing and normalisation for all, augmentation for training images only.')

const imageLoaderFields = {
  ...loaderFields,
  transforms: Transforms.prefault({}),
  persistent_workers: z.boolean().default(false).describe('Keep DataLoader workers alive between epochs (needs num_workers > 0).'),
}

const torchvisionSet = (name: string, what: string) =>
  z
    .strictObject({
      source: z.literal(name).describe(`${what} through torchvision: read from root; downloaded there first when missing and download is true.`),
      root: z.string().min(1).default('data').describe('The folder holding the dataset (relative to the project root).'),
      download: z.boolean().default(true).describe('Download the files when they are missing (needs the network; offline, the error says where to put them).'),
      ...imageLoaderFields,
    })
    .describe(`${what}.`)

const ImageData = z
  .discriminatedUnion('source', [
    z
      .strictObject({
        source: z.literal('digits').default('digits').describe("scikit-learn's bundled 8x8 greyscale digits (1,797 images, offline; the default)."),
        ...imageLoaderFields,
      })
      .describe('digits (the default).'),
    torchvisionSet('mnist', 'MNIST (28x28 greyscale digits, 60,000 training images)'),
    torchvisionSet('fashion-mnist', 'Fashion-MNIST (28x28 greyscale clothing, 10 classes)'),
    torchvisionSet('cifar10', 'CIFAR-10 (32x32 colour, 10 classes)'),
    z
      .strictObject({
        source: z.literal('imagefolder').describe('A folder of yours with one subfolder of images per class (PNG, JPEG...).'),
        path: z.string().min(1).describe('The training folder (relative to the project root).'),
        val_path: z.string().min(1).nullable().default(null).describe('A validation folder with the same class subfolders (null: split val_fraction off the training folder with the seed).'),
        image_size: z.int().min(8).default(64).describe('Images are resized (shorter side) and centre-cropped to this square size.'),
        ...imageLoaderFields,
      })
      .describe('An image folder.'),
    z
      .strictObject({
        source: z.literal('synthetic').describe("Random images and labels (torchvision's FakeData), for smoke tests: nothing to learn."),
        samples: z.int().min(10).default(512).describe('How many images.'),
        classes: z.int().min(2).default(10).describe('How many classes.'),
        image_size: z.int().min(8).default(32).describe('Square size of the images.'),
        channels: z.union([z.literal(1), z.literal(3)]).default(3).describe('1 (greyscale) or 3 (colour).'),
        ...imageLoaderFields,
      })
      .describe('Synthetic images.'),
  ])
  .describe('The images and how they are batched: `source` picks them and their fields.')

const TORCHVISION_ARCHS = ['resnet18', 'resnet50', 'efficientnet_b0'] as const

const ImageClassification = z
  .strictObject({
    ...header,
    task: z.literal('image-classification').describe('The recipe: which template generates the script.'),
    ...about,
    data: ImageData.prefault({}),
    model: z
      .strictObject({
        arch: z
          .enum(['cnn', 'mlp', ...TORCHVISION_ARCHS])
          .default('cnn')
          .describe('cnn: the guide Backbone (two conv blocks, adaptive pooling) + linear Classifier; mlp: flattened pixels through linear layers; resnet18, resnet50, efficientnet_b0: torchvision models with a new head.'),
        channels: z.tuple([z.int().min(1), z.int().min(1)]).default([32, 64]).describe('cnn: output channels of the two conv blocks.'),
        hidden: z.array(z.int().min(1)).min(1).default([256]).describe('mlp: widths of the hidden layers.'),
        dropout: z.number().min(0).lt(1).default(0.1).describe('Dropout before the linear head.'),
        pretrained: z.boolean().default(false).describe("torchvision models: start from torchvision's ImageNet weights, read from the torch hub cache (offline, the error names the file and where to put it)."),
        freeze: z.enum(['none', 'backbone']).default('none').describe('backbone: train only the head (transfer learning), until unfreeze_at_epoch.'),
        unfreeze_at_epoch: z.int().min(2).nullable().default(null).describe('With freeze: backbone, the epoch from which the whole network trains (null: never).'),
      })
      .prefault({})
      .describe('The network.'),
    ...classificationSections,
  })
  .superRefine((config, context) => {
    const problem = (path: string[], message: string) => context.addIssue({code: 'custom', path, message, input: undefined})
    if (config.data.persistent_workers && config.data.num_workers === 0) problem(['data', 'persistent_workers'], 'persistent_workers needs num_workers > 0')
    const torchvisionModel = (TORCHVISION_ARCHS as readonly string[]).includes(config.model.arch)
    if (config.model.pretrained && !torchvisionModel) problem(['model', 'pretrained'], `pretrained weights exist for ${TORCHVISION_ARCHS.join(', ')}, not ${config.model.arch}`)
    if (config.model.freeze === 'backbone' && config.model.arch === 'mlp') problem(['model', 'freeze'], 'an mlp has no backbone to freeze')
    if (config.model.unfreeze_at_epoch !== null && config.model.freeze !== 'backbone') problem(['model', 'unfreeze_at_epoch'], 'unfreeze_at_epoch needs freeze: backbone')
  })
  .describe('Image classification.')

const columnName = () => z.string().min(1).max(500)

const TabularData = z
  .discriminatedUnion('source', [
    z
      .strictObject({
        source: z.literal('wine').default('wine').describe("scikit-learn's bundled wine set: 178 wines, 13 measurements, 3 cultivars (offline; the default)."),
        kind: z.literal('classification').default('classification').describe('wine is a classification set.'),
        ...loaderFields,
      })
      .describe('wine (classification).'),
    z
      .strictObject({
        source: z.literal('diabetes').describe("scikit-learn's bundled diabetes set: 442 patients, 10 measurements, disease progression after a year (offline)."),
        kind: z.literal('regression').default('regression').describe('diabetes is a regression set.'),
        ...loaderFields,
      })
      .describe('diabetes (regression).'),
    z
      .strictObject({
        source: z.literal('csv').describe('A CSV file of yours with a header row.'),
        path: z.string().min(1).describe('The CSV file, relative to the project root.'),
        kind: z.enum(['classification', 'regression']).describe('classification (the target is a class) or regression (a number).'),
        target: columnName().describe('The column to predict.'),
        features: z.array(columnName()).min(1).nullable().default(null).describe('The input columns (null: every column but the target).'),
        categorical: z
          .array(columnName())
          .default([])
          .describe('Columns to treat as categories even though they hold numbers; columns with any non-numeric value are categorical anyway.'),
        delimiter: z.string().length(1).default(',').describe('The field delimiter.'),
        val_path: z.string().min(1).nullable().default(null).describe('A CSV of validation rows with the same columns (null: split val_fraction off the training file).'),
        ...loaderFields,
      })
      .describe('A CSV file.'),
  ])
  .describe('The table and how it is batched: `source` picks it and its fields.')

const Tabular = z
  .strictObject({
    ...header,
    task: z.literal('tabular').describe('The recipe: which template generates the script.'),
    ...about,
    data: TabularData.prefault({}),
    model: z
      .strictObject({
        arch: z.enum(['mlp']).default('mlp').describe('mlp: linear layers with ReLU, optional batch norm and dropout.'),
        hidden: z.array(z.int().min(1)).default([64, 64]).describe('Widths of the hidden layers ([] for a linear model).'),
        dropout: z.number().min(0).lt(1).default(0.1).describe('Dropout after each hidden layer.'),
        batch_norm: z.boolean().default(true).describe('Batch normalisation after each hidden linear layer.'),
        categorical: z.enum(['embedding', 'onehot']).default('embedding').describe('How categorical columns enter the network: a learned embedding each, or one-hot.'),
        embedding_dim: z.int().min(1).nullable().default(null).describe('Embedding width per categorical column (null: min(16, (categories + 1) // 2)).'),
      })
      .prefault({})
      .describe('The network.'),
    loss: z
      .strictObject({
        name: z
          .enum(['auto', 'cross_entropy', 'mse', 'mae', 'huber'])
          .default('auto')
          .describe('Training loss; auto: cross_entropy for classification, mse for regression. mae and huber are for regression.'),
        label_smoothing: z.number().min(0).lt(1).default(0).describe('Cross-entropy label smoothing.'),
        huber_delta: positive().default(1).describe('Where the Huber loss turns from quadratic to linear (in standardised target units).'),
      })
      .prefault({})
      .describe('The training loss.'),
    metrics: z
      .strictObject({
        primary: z.string().min(1).optional().describe('The metric that ranks runs (default: val/acc for classification, val/r2 for regression).'),
        goal: Goal.default('auto').describe('Whether lower (min) or higher (max) is better; auto: from the name (loss: min, acc: max).'),
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

/** How texts become tokens and tokens become ids: part of every text source. */
const textFields = {
  tokenizer: z
    .strictObject({
      lowercase: z.boolean().default(true).describe('Lower-case the text before splitting it.'),
      pattern: z.string().min(1).default("[a-z0-9]+(?:'[a-z]+)?").describe('A regular expression (Python re) matching one token; everything between tokens is dropped.'),
      max_length: z.int().min(1).default(256).describe('Tokens kept per text (the first ones).'),
    })
    .prefault({})
    .describe('How texts become tokens (basic English: lower-case words and numbers).'),
  vocab: z
    .strictObject({
      min_freq: z.int().min(1).default(2).describe('Tokens seen fewer times in the training texts become <unk>.'),
      max_size: z.int().min(10).default(20000).describe('At most this many tokens (the most frequent), plus <pad> and <unk>.'),
    })
    .prefault({})
    .describe('The vocabulary, built from the training texts only and saved with each checkpoint.'),
}

const textFile = (source: string, what: string, fields: Record<string, z.ZodType>) =>
  z
    .strictObject({
      source: z.literal(source).describe(what),
      path: z.string().min(1).describe('The training file (relative to the project root).'),
      val_path: z.string().min(1).nullable().default(null).describe('A validation file of the same layout (null: split val_fraction off the training file).'),
      ...fields,
      ...textFields,
      ...loaderFields,
    })
    .describe(what)

const TextData = z
  .discriminatedUnion('source', [
    z
      .strictObject({
        source: z.literal('fortunes').default('fortunes').describe("Quotations from Debian's fortunes package, one class per topic file (offline; the default)."),
        directory: z.string().min(1).default('/usr/share/games/fortunes').describe('Where the fortunes package keeps its topic files.'),
        topics: z.array(z.string().min(1)).min(2).default(['computers', 'food', 'politics', 'science', 'sports']).describe('The topic files that become the classes.'),
        ...textFields,
      ...loaderFields,
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
    task: z.literal('text-classification').describe('The recipe: which template generates the script.'),
    ...about,
    data: TextData.prefault({}),
    model: z
      .strictObject({
        arch: z
          .enum(['embedding_bag', 'textcnn', 'bilstm', 'huggingface'])
          .default('embedding_bag')
          .describe("embedding_bag: the guide's baseline, a mean of token embeddings (EmbeddingBag with offsets) then linear; textcnn: convolutions of several widths with max pooling; bilstm: a bidirectional LSTM, mean-pooled; huggingface: a transformers model and its tokenizer from a local folder (hf_path), with a new classification head."),
        embed_dim: z.int().min(1).default(64).describe('Width of the token embeddings.'),
        hidden: z.int().min(1).default(64).describe('bilstm: hidden units per direction.'),
        kernel_sizes: z.array(z.int().min(1)).min(1).default([3, 4, 5]).describe('textcnn: convolution widths, in tokens.'),
        filters: z.int().min(1).default(64).describe('textcnn: filters per width.'),
        dropout: z.number().min(0).lt(1).default(0.2).describe('Dropout before the linear head.'),
        hf_path: z.string().min(1).nullable().default(null).describe('huggingface: a folder written by save_pretrained (config, weights, tokenizer), relative to the project root; needs the transformers package.'),
      })
      .prefault({})
      .describe('The network.'),
    ...classificationSections,
  })
  .superRefine((config, context) => {
    if (config.model.arch === 'huggingface' && config.model.hf_path === null) {
      context.addIssue({code: 'custom', path: ['model', 'hf_path'], message: 'model.arch huggingface needs hf_path: the folder of a model saved with save_pretrained', input: undefined})
    }
  })
  .describe('Text classification.')

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
  alphabet: z.string().min(1).default("abcdefghijklmnopqrstuvwxyz' ").describe('The characters the model spells (a space included); transcripts are lower-cased first. The CTC blank comes on top.'),
  unknown_characters: z.enum(['error', 'drop']).default('error').describe('A transcript with a character outside the alphabet: error stops with its file and line; drop leaves the utterance out (counted in a `dropped` event).'),
  cache_features: z.boolean().default(true).describe("Keep every utterance's features in memory once computed (decoding and resampling cost more than a training step); off for sets larger than memory. With num_workers > 0 each worker keeps its own."),
  ...loaderFields,
}

const SpeechData = z
  .discriminatedUnion('source', [
    z
      .strictObject({
        source: z.literal('demo').default('demo').describe("Spoken digit strings and command words made with Debian's espeak-ng in several voices, speeds and pitches (offline; the default). The validation strings never occur in training."),
        root: z.string().min(1).default('data/speech-demo').describe('Where the generated audio and manifests are kept (relative to the project root); made once per setting, then reused.'),
        utterances: z.int().min(20).default(1000).describe('Utterances to synthesise.'),
        ...speechFields,
      })
      .describe('The espeak-ng demo set (the default).'),
    z
      .strictObject({
        source: z.literal('manifest').describe('A manifest of yours: JSON Lines (one object per line) or CSV (a header row), an audio path and a transcript per utterance.'),
        path: z.string().min(1).describe('The training manifest (relative to the project root); audio paths in it are relative to its folder.'),
        val_path: z.string().min(1).nullable().default(null).describe('A validation manifest (null: split val_fraction off the training one with the seed).'),
        audio_field: columnName().default('audio').describe('The field (or CSV column) holding the audio path.'),
        text_field: columnName().default('text').describe('The field (or CSV column) holding the transcript.'),
        ...speechFields,
      })
      .describe('A manifest.'),
    z
      .strictObject({
        source: z.literal('librispeech').describe('LibriSpeech through torchaudio.datasets.LIBRISPEECH: read from root; downloaded there first when missing and download is true.'),
        root: z.string().min(1).default('data').describe('The folder holding LibriSpeech/ (relative to the project root).'),
        url: z.enum(['train-clean-100', 'train-clean-360', 'train-other-500', 'dev-clean', 'dev-other', 'test-clean', 'test-other']).default('train-clean-100').describe('The part to train on.'),
        val_url: z.enum(['dev-clean', 'dev-other', 'test-clean', 'test-other']).default('dev-clean').describe('The part to validate on.'),
        download: z.boolean().default(true).describe('Download the parts when they are missing (needs the network; offline, the error says where to put them).'),
        ...speechFields,
        cache_features: z.boolean().default(false).describe("Keep every utterance's features in memory once computed (off: LibriSpeech's 100 hours of features take ~13 GB)."),
      })
      .describe('LibriSpeech.'),
  ])
  .describe('The utterances and how they are batched: `source` picks them and their fields.')

const SpeechRecognition = z
  .strictObject({
    ...header,
    task: z.literal('speech-recognition').describe('The recipe: which template generates the script.'),
    ...about,
    data: SpeechData.prefault({}),
    model: z
      .strictObject({
        arch: z.enum(['cnn_bilstm']).default('cnn_bilstm').describe("cnn_bilstm: the guide's acoustic model, two strided conv blocks (time and frequency down by 4), a bidirectional LSTM, a linear layer over the characters and the blank."),
        channels: z.int().min(1).default(32).describe('Channels of the conv blocks.'),
        hidden: z.int().min(1).default(128).describe('LSTM units per direction.'),
        layers: z.int().min(1).default(2).describe('Stacked LSTM layers.'),
        dropout: z.number().min(0).lt(1).default(0.1).describe('Dropout between LSTM layers and before the output layer.'),
      })
      .prefault({})
      .describe('The network.'),
    loss: z
      .strictObject({name: z.enum(['ctc']).default('ctc').describe('Connectionist temporal classification (nn.CTCLoss, blank 0) over the characters.')})
      .prefault({})
      .describe('The training loss.'),
    metrics: Metrics('val/cer').prefault({}),
    ...trainingSections,
  })
  .superRefine((config, context) => {
    const characters = [...config.data.alphabet]
    if (new Set(characters).size !== characters.length) context.addIssue({code: 'custom', path: ['data', 'alphabet'], message: 'a character appears twice in the alphabet', input: config.data.alphabet})
    if (config.data.alphabet !== config.data.alphabet.toLowerCase()) context.addIssue({code: 'custom', path: ['data', 'alphabet'], message: 'transcripts are lower-cased: the alphabet must be lower-case too', input: config.data.alphabet})
  })
  .describe('Speech recognition with CTC.')

const RlDqn = z
  .strictObject({
    ...header,
    task: z.literal('rl-dqn').describe('The recipe: which template generates the script.'),
    ...about,
    data: z
      .strictObject({
        env: z.string().min(1).default('CartPole-v1').describe('A gymnasium environment with discrete actions and vector observations (bundled, offline: CartPole-v1, Acrobot-v1, MountainCar-v0, LunarLander-v3 with Box2D).'),
        num_envs: z.int().min(1).default(1).describe('Environments stepped together (one SyncVectorEnv); each step of them all collects num_envs transitions.'),
        steps_per_epoch: z.int().min(1).default(5000).describe('Environment steps (transitions collected) per epoch.'),
        replay_size: z.int().min(1).default(50000).describe('Transitions the replay buffer holds; the oldest go first.'),
        batch_size: z.int().min(1).default(64).describe('Transitions per update, sampled uniformly from the buffer.'),
        learning_starts: z.int().min(0).default(1000).describe('Transitions collected before the first update.'),
        update_every: z.int().min(1).default(1).describe('Steps of the environments between updates.'),
        exploration: z
          .strictObject({
            start: z.number().min(0).max(1).default(1).describe('Epsilon at the start: the chance of a random action.'),
            end: z.number().min(0).max(1).default(0.05).describe('Epsilon once decayed.'),
            decay_steps: z.int().min(1).default(10000).describe('Environment steps over which epsilon falls linearly from start to end.'),
          })
          .prefault({})
          .describe('Epsilon-greedy exploration.'),
        eval_episodes: z.int().min(1).default(10).describe('Greedy episodes per evaluation (val/return is their mean).'),
        return_window: z.int().min(1).default(20).describe('Finished training episodes that train/return averages.'),
      })
      .prefault({})
      .describe('Where experience comes from: the environments, exploration and the replay buffer.'),
    model: z
      .strictObject({
        arch: z.enum(['mlp']).default('mlp').describe('mlp: the Q-network, observation -> linear layers with ReLU -> one value per action.'),
        hidden: z.array(z.int().min(1)).min(1).default([128, 128]).describe('Widths of the hidden layers.'),
        target_update: z.enum(['hard', 'soft']).default('hard').describe('hard: copy the online network into the target every target_every updates; soft: blend tau of it in after every update.'),
        target_every: z.int().min(1).default(500).describe('hard: updates between copies.'),
        tau: fraction().default(0.005).describe('soft: the share of the online weights blended into the target per update (Polyak averaging).'),
      })
      .prefault({})
      .describe('The Q-network and its target network.'),
    loss: z
      .strictObject({
        name: z.enum(['huber', 'mse']).default('huber').describe('The temporal-difference loss: Huber (smooth L1) or squared error.'),
        huber_delta: positive().default(1).describe('huber: where the loss turns from quadratic to linear.'),
        gamma: z.number().min(0).max(1).default(0.99).describe('Discount of future rewards.'),
        double: z.boolean().default(true).describe('Double DQN: the online network picks the next action, the target network values it.'),
      })
      .prefault({})
      .describe('The training loss.'),
    metrics: Metrics('val/return').prefault({}),
    ...trainingSections,
  })
  .superRefine((config, context) => {
    if (config.train.grad_accum_steps !== 1) context.addIssue({code: 'custom', path: ['train', 'grad_accum_steps'], message: 'DQN makes one update per batch sampled from the replay buffer: raise data.batch_size instead', input: config.train.grad_accum_steps})
    if (config.data.batch_size > config.data.replay_size) context.addIssue({code: 'custom', path: ['data', 'batch_size'], message: `a batch of ${config.data.batch_size} is more than the buffer holds (data.replay_size ${config.data.replay_size})`, input: config.data.batch_size})
  })
  .describe('Deep Q-learning on a gymnasium environment.')

/** How Criteo-layout files become batches: part of every recommendation source. */
const criteoFields = {
  hash_size: z.int().min(2).default(10000).describe('Embedding rows per categorical field: ids are hashed into them (row 0 is for a blank id).'),
  batch_size: z.int().min(1).default(512).describe('Examples per batch (per optimiser step unless grad_accum_steps > 1).'),
  shuffle_buffer: z.int().min(1).default(65536).describe('Training examples shuffled together as the file streams by (the order repeats with the seed).'),
  max_rows: z.int().min(1).nullable().default(null).describe('Train on the first N examples only (null: all).'),
  pin_memory: loaderFields.pin_memory,
}

const RecsysData = z
  .discriminatedUnion('source', [
    z
      .strictObject({
        source: z.literal('synthetic').default('synthetic').describe('Click logs in the Criteo layout generated from a known model, so the best reachable AUC is known (offline; the default).'),
        root: z.string().min(1).default('data/criteo-synthetic').describe('Where the generated files are kept (relative to the project root); made once per setting, then reused.'),
        rows: z.int().min(100).default(200000).describe('Training examples to generate.'),
        val_rows: z.int().min(100).default(50000).describe('Validation examples to generate.'),
        cardinality: z.int().min(2).default(100).describe('Distinct ids per categorical field (a few common, many rare).'),
        ...criteoFields,
      })
      .describe('Synthetic click logs (the default).'),
    z
      .strictObject({
        source: z.literal('criteo').describe("Criteo's click logs (Kaggle display-advertising or Terabyte): tab-separated label, 13 integer and 26 hexadecimal categorical features; read as a stream."),
        path: z.string().min(1).describe('The training file (relative to the project root).'),
        val_path: z.string().min(1).nullable().default(null).describe('A validation file of the same layout (null: the last val_rows examples of path, as the Criteo papers hold out the last day).'),
        val_rows: z.int().min(1).default(100000).describe('With no val_path: how many examples at the end of path are held out.'),
        ...criteoFields,
      })
      .describe('Criteo files.'),
  ])
  .describe('The click logs and how they are batched: `source` picks them and their fields.')

const RecsysDlrm = z
  .strictObject({
    ...header,
    task: z.literal('recsys-dlrm').describe('The recipe: which template generates the script.'),
    ...about,
    data: RecsysData.prefault({}),
    model: z
      .strictObject({
        arch: z.enum(['dlrm']).default('dlrm').describe('dlrm: a bottom MLP on the dense features, an EmbeddingBag per categorical field, pairwise dot products of all of them, a top MLP.'),
        embedding_dim: z.int().min(1).default(16).describe('Width of each embedding (and of the bottom MLP output).'),
        bottom_mlp: z.array(z.int().min(1)).min(1).default([64, 16]).describe('Widths of the bottom MLP; the last equals embedding_dim.'),
        top_mlp: z.array(z.int().min(1)).default([64, 32]).describe('Hidden widths of the top MLP (a linear output follows).'),
      })
      .prefault({})
      .describe('The network.'),
    loss: z
      .strictObject({name: z.enum(['bce']).default('bce').describe('Binary cross-entropy on the click logit (BCEWithLogitsLoss); its mean is the log loss.')})
      .prefault({})
      .describe('The training loss.'),
    metrics: Metrics('val/auc').prefault({}),
    ...trainingSections,
  })
  .superRefine((config, context) => {
    const last = config.model.bottom_mlp.at(-1)
    if (last !== config.model.embedding_dim) {
      context.addIssue({code: 'custom', path: ['model', 'bottom_mlp'], message: `the last width (${last}) must equal model.embedding_dim (${config.model.embedding_dim}): the dense vector meets the embeddings in dot products`, input: config.model.bottom_mlp})
    }
  })
  .describe('Click-through prediction with DLRM.')

// -----------------------------------------------------------------------------
// script: a user's own training script, run unchanged

/** A Python named group, `(?P<name>...)`, as JavaScript writes it, so that mlx can check a pattern it does not run. */
function asJavaScriptRegex(pattern: string): RegExp {
  return new RegExp(pattern.replace(/\(\?P<(\w+)>/g, '(?<$1>').replace(/\(\?P=(\w+)\)/g, '\\k<$1>'))
}

const metricKey = z.string().regex(/^[A-Za-z_][\w./-]*$/, {error: 'expected a metric name such as train/loss'})

const ScriptPattern = z
  .strictObject({
    regex: z
      .string()
      .min(1)
      .superRefine((pattern, context) => {
        let regex: RegExp
        try {
          regex = asJavaScriptRegex(pattern)
        } catch (error) {
          context.addIssue({code: 'custom', message: `not a regular expression: ${(error as Error).message.replace(/^Invalid regular expression: /, '')}`, input: pattern})
          return
        }
        if (!/\(\?P?<\w+>/.test(pattern) || regex.source === '') context.addIssue({code: 'custom', message: 'a pattern needs a named group for each value, like (?P<loss>[\\d.]+)', input: pattern})
      })
      .describe("A Python regular expression searched in each printed line; each named group (?P<name>...) holding a number is a metric; the groups step and epoch place the values."),
    metrics: z
      .record(z.string().regex(/^\w+$/, {error: 'expected a group name'}), metricKey)
      .optional()
      .describe('Group name -> metric name (loss: train/loss); only these groups are kept. Left out: every group under its own name.'),
  })
  .describe('How one kind of printed line becomes metrics.')

const Script = z
  .strictObject({
    path: z.string().min(1).describe('The training script, relative to the config file (resolved when the config is read).'),
    args: z.array(z.string()).default([]).describe('Its command-line arguments, passed as they are (no shell); {run_dir} in one becomes the run directory.'),
    interpreter: z.enum(['python', 'none']).default('python').describe("python: run with the run's Python; none: the path is an executable."),
    patterns: z.array(ScriptPattern).default([]).describe('How printed lines become metrics (when the script writes none itself through mlx_runtime); the first that matches a line wins.'),
    default_pattern: z.boolean().default(true).describe('Also read key: value and key=value pairs with numeric values from lines no pattern matched.'),
  })
  .describe('Your own training script, run unchanged.')

const ScriptTask = z
  .strictObject({
    ...header,
    task: z.literal('script').describe('The recipe: which template generates the script.'),
    ...about,
    script: Script,
    metrics: Metrics('loss').prefault({}),
    launch: Launch.prefault({}),
  })
  .describe("A user's own training script.")

const TaskConfigs = z.discriminatedUnion('task', [ImageClassification, Tabular, TextClassification, SpeechRecognition, RlDqn, RecsysDlrm, ScriptTask]).describe('An mlx experiment config.')

type ParsedConfig = z.output<typeof TaskConfigs>
/** A parsed config once `fillDerived` has run: no `extends`, every goal decided. */
type Derived<C> = C extends unknown ? Omit<C, 'extends' | 'metrics'> & {metrics: {primary: string; goal: Goal}} : never

function resolveGoal(goal: z.output<typeof Goal>, metric: string): Goal {
  return goal === 'auto' ? (metricGoal(metric) ?? 'min') : goal
}

/** The primary metric when the config names none: it depends on the task (and for tables, on the kind). */
function defaultPrimary(config: ParsedConfig): string {
  switch (config.task) {
    case 'image-classification':
      return 'val/acc'
    case 'tabular':
      return config.data.kind === 'classification' ? 'val/acc' : 'val/r2'
    case 'text-classification':
      return 'val/acc'
    case 'speech-recognition':
      return 'val/cer'
    case 'rl-dqn':
      return 'val/return'
    case 'recsys-dlrm':
      return 'val/auc'
    case 'script':
      return 'loss'
    default: {
      const unreachable: never = config
      return unreachable
    }
  }
}

/**
 * Defaults that depend on other fields, filled after parsing so that the resolved
 * config (what the script reads, what `mlx validate --print` shows) is explicit:
 * every `auto` goal becomes min or max, and what early stopping and best checkpoints
 * watch defaults to metrics.primary.
 */
function fillDerived(config: ParsedConfig): Derived<ParsedConfig> {
  const {extends: _extends, ...rest} = config
  const primary = rest.metrics.primary ?? defaultPrimary(config)
  const filled: Derived<ParsedConfig> = {...rest, metrics: {primary, goal: resolveGoal(rest.metrics.goal, primary)}}
  if (filled.task === 'tabular' && filled.loss.name === 'auto') {
    filled.loss = {...filled.loss, name: filled.data.kind === 'classification' ? 'cross_entropy' : 'mse'}
  }
  // A user's script has no training section of mlx's: nothing more to fill. (Both tests: each narrows its own object.)
  if (rest.task === 'script' || filled.task === 'script') return filled
  const stopping = rest.train.early_stopping
  const checkpoint = rest.train.checkpoint
  filled.train = {
    ...rest.train,
    early_stopping: stopping && {...stopping, monitor: stopping.monitor ?? primary, mode: resolveGoal(stopping.mode, stopping.monitor ?? primary)},
    checkpoint: {...checkpoint, monitor: checkpoint.monitor ?? primary, mode: resolveGoal(checkpoint.mode, checkpoint.monitor ?? primary)},
  }
  if (rest.scheduler.name === 'plateau') filled.scheduler = {...rest.scheduler, mode: resolveGoal(rest.scheduler.mode, rest.scheduler.monitor)}
  return filled
}

export const ExperimentConfigSchema = TaskConfigs.transform(fillDerived)

export type ExperimentConfig = z.output<typeof ExperimentConfigSchema>
export type Task = ExperimentConfig['task']

/** The per-task branches of the schema. */
export const TASK_SCHEMAS = TaskConfigs.options

/** The tasks the schema knows, in the order they are declared. */
export const TASKS: readonly Task[] = TASK_SCHEMAS.map((option) => option.shape.task.value)

/** The JSON Schema of config files as written (fields with defaults are optional). */
export function experimentJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'mlx experiment config',
    ...z.toJSONSchema(TaskConfigs, {io: 'input', target: 'draft-2020-12'}),
  }
}
