/**
 * The config's shared sections (optim, scheduler, train, launch, metrics) and the fields every
 * task's config has; each task's own schema branch is in tasks/<task>.ts.
 */
import {z} from 'zod'
import {NAME_MAX_LENGTH, NAME_PATTERN, NAME_RULE} from '../names.js'

/** zod itself, for the task files' schema functions (tasks/<task>.ts). */
export {z}

export const devicePattern = /^(auto|cpu|cuda(:\d+)?)$/

export const Goal = z.enum(['min', 'max', 'auto'])
export const positive = () => z.number().positive()
export const fraction = () => z.number().gt(0).lt(1)

// -----------------------------------------------------------------------------
// optim

export const weightDecay = (value: number, how: string) =>
  z.number().min(0).default(value).describe(`Weight decay (${how}).`)
export const betas = z
  .tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)])
  .default([0.9, 0.999])
  .describe('Coefficients of the running averages of the gradient and its square.')
export const eps = positive().default(1e-8).describe('Added to the denominator for numerical stability.')

export const adamFields = {lr: positive().default(0.001).describe('Learning rate.'), betas, eps}

export const Adam = z
  .strictObject({
    name: z.literal('adam').default('adam').describe('Adam (the default).'),
    ...adamFields,
    weight_decay: weightDecay(0, 'an L2 penalty added to the gradient'),
  })
  .describe('Adam.')

export const AdamW = z
  .strictObject({
    name: z.literal('adamw').describe('AdamW: Adam with decoupled weight decay.'),
    ...adamFields,
    weight_decay: weightDecay(0.01, 'decoupled from the gradient'),
  })
  .describe('AdamW.')

export const Sgd = z
  .strictObject({
    name: z.literal('sgd').describe('Stochastic gradient descent.'),
    lr: positive().default(0.01).describe('Learning rate.'),
    momentum: z.number().min(0).lt(1).default(0.9).describe('Momentum factor (0 for none).'),
    nesterov: z.boolean().default(false).describe('Nesterov momentum (needs momentum > 0).'),
    weight_decay: weightDecay(0, 'an L2 penalty added to the gradient'),
  })
  .refine((sgd) => !sgd.nesterov || sgd.momentum > 0, {
    path: ['nesterov'],
    error: 'Nesterov momentum needs momentum > 0',
  })
  .describe('SGD with momentum.')

export const Optim = z
  .discriminatedUnion('name', [Adam, AdamW, Sgd])
  .describe('The optimiser: `name` picks it and its fields.')

// -----------------------------------------------------------------------------
// scheduler

export const Scheduler = z
  .discriminatedUnion('name', [
    z
      .strictObject({name: z.literal('none').default('none').describe('A constant learning rate (the default).')})
      .describe('No schedule.'),
    z
      .strictObject({
        name: z.literal('step').describe('Multiply the learning rate by gamma every step_size epochs (StepLR).'),
        step_size: z.int().min(1).default(10).describe('Epochs between decays.'),
        gamma: z.number().gt(0).max(1).default(0.1).describe('Factor applied at each decay.'),
      })
      .describe('StepLR, per epoch.'),
    z
      .strictObject({
        name: z
          .literal('multistep')
          .describe('Multiply the learning rate by gamma at each milestone epoch (MultiStepLR).'),
        milestones: z
          .array(z.int().min(1))
          .min(1)
          .refine((list) => list.every((value, i) => i === 0 || value > list[i - 1]!), {
            error: 'milestones must increase',
          })
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
        name: z
          .literal('warmup_cosine')
          .describe('Linear warmup from 0 to optim.lr, then cosine annealing to min_lr, per step.'),
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
        name: z
          .literal('plateau')
          .describe(
            'Reduce the learning rate when a metric stops improving (ReduceLROnPlateau), after each evaluation.',
          ),
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

export const EarlyStopping = z
  .strictObject({
    monitor: z.string().min(1).optional().describe('The metric watched (default: metrics.primary).'),
    mode: Goal.default('auto').describe('min or max; auto: from the metric name.'),
    patience: z.int().min(1).default(5).describe('Evaluations without improvement before stopping.'),
    min_delta: z.number().min(0).default(0).describe('The least change that counts as an improvement.'),
  })
  .describe('Stop when the monitored metric stops improving.')

export const Checkpoint = z
  .strictObject({
    every_epochs: z.int().min(0).default(0).describe('Save every N epochs (0: only the last and the best).'),
    best: z.boolean().default(true).describe('Keep a checkpoint of the best value of monitor.'),
    monitor: z
      .string()
      .min(1)
      .optional()
      .describe('The metric that decides the best checkpoint (default: metrics.primary).'),
    mode: Goal.default('auto').describe('min or max; auto: from the metric name.'),
    keep_last: z.int().min(1).default(3).describe('How many periodic checkpoints to keep.'),
  })
  .describe('When checkpoints are written and how many are kept.')

export const Divergence = z
  .strictObject({
    factor: positive()
      .nullable()
      .default(1000)
      .describe(
        'A training loss above factor times its mean over the first early_steps steps has diverged (null: no bound relative to the early loss).',
      ),
    threshold: positive()
      .nullable()
      .default(null)
      .describe(
        "A training loss above this has diverged, as Lightning's divergence_threshold (null: no absolute bound).",
      ),
    early_steps: z.int().min(1).max(100_000).default(20).describe('The first steps whose mean loss is the early loss.'),
  })
  .describe(
    'When the training loss has diverged besides not being finite (gradient clipping keeps an exploding loss finite): the run stops as diverged, its last good state saved.',
  )

export const Train = z
  .strictObject({
    epochs: z.int().min(1).default(10).describe('Passes over the training set.'),
    max_steps: z
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe('Stop after this many optimiser steps, even mid-epoch (null: no limit).'),
    log_every: z
      .int()
      .min(1)
      .max(1_000_000)
      .default(10)
      .describe('Log train metrics every N optimiser steps (and at each epoch end).'),
    eval_every: z.int().min(1).max(1_000_000).default(1).describe('Validate every N epochs (and after the last).'),
    amp: z
      .union([z.literal(false), z.enum(['bf16', 'fp16'])])
      .default(false)
      .describe('Mixed precision: false, bf16 (CPU or CUDA) or fp16 (CUDA, with a gradient scaler).'),
    grad_clip: positive()
      .nullable()
      .default(null)
      .describe('Clip the gradient norm to this value (null: no clipping).'),
    grad_accum_steps: z
      .int()
      .min(1)
      .max(65_536)
      .default(1)
      .describe(
        'Batches whose gradients add up before each optimiser step (at most an epoch: a longer window ends with the epoch, and the run says so).',
      ),
    divergence: Divergence.nullable()
      .prefault({})
      .describe('When a run has diverged (null: only when its loss is NaN or infinite).'),
    early_stopping: EarlyStopping.nullable()
      .default(null)
      .describe('Stop when the monitored metric stops improving (null: off).'),
    checkpoint: Checkpoint.prefault({}),
    deterministic: z
      .boolean()
      .default(false)
      .describe(
        'torch.use_deterministic_algorithms and deterministic cuDNN (slower; same results on the same machine). Off: the cuDNN autotuner picks the fastest kernels.',
      ),
    compile: z
      .boolean()
      .default(false)
      .describe('torch.compile the model (needs a C++ compiler; the first steps are slow while it compiles).'),
    channels_last: z
      .boolean()
      .default(false)
      .describe('Channels-last memory format for the model and its inputs (faster convolutions on recent GPUs).'),
    tensorboard: z.boolean().default(true).describe('Also write TensorBoard event files into the run directory.'),
    artifacts: z
      .boolean()
      .default(true)
      .describe(
        'At the end, save the analysis artifacts of the recipe (for images: the confusion matrix and misclassified samples).',
      ),
  })
  .describe('The training loop.')

// -----------------------------------------------------------------------------
// launch

export const slurmValue = (what: string) =>
  z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^\s'"\\\p{Cc}]+$/u, {error: `expected ${what}, without spaces, quotes or control characters`})

export const Slurm = z
  .strictObject({
    partition: slurmValue('a partition name')
      .nullable()
      .default(null)
      .describe('sbatch --partition (null: the cluster default).'),
    nodes: z.int().min(1).max(10_000).default(1).describe('sbatch --nodes: one task per node, running torchrun there.'),
    gpus_per_node: z
      .int()
      .min(0)
      .max(64)
      .default(0)
      .describe('sbatch --gpus-per-node (0: none asked for); with nproc_per_node auto, one process per GPU.'),
    cpus_per_task: z
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe("sbatch --cpus-per-task: CPUs for each node's processes (null: the cluster default)."),
    mem: z
      .string()
      .regex(/^\d+[KMGT]?$/, {error: 'expected a size such as 32G'})
      .nullable()
      .default(null)
      .describe('sbatch --mem, per node (32G).'),
    time: z
      .string()
      .regex(/^(\d+-)?\d+(:\d{1,2}){0,2}$/, {error: 'expected a time limit such as 90, 1:30:00 or 2-00:00:00'})
      .nullable()
      .default(null)
      .describe('sbatch --time: the limit (minutes, HH:MM:SS or D-HH:MM:SS).'),
    account: slurmValue('an account').nullable().default(null).describe('sbatch --account.'),
    qos: slurmValue('a QOS').nullable().default(null).describe('sbatch --qos.'),
    extra: z
      .array(
        z
          .string()
          .max(1000)
          .regex(/^--?[A-Za-z][^\p{Cc}]*$/u, {
            error: 'expected an sbatch option such as --constraint=a100, on one line',
          }),
      )
      .default([])
      .describe('More sbatch options, one #SBATCH line each (--constraint=a100, --exclusive).'),
  })
  .describe('launch.launcher: slurm: what the batch job asks for.')

export const Launch = z
  .strictObject({
    launcher: z
      .enum(['local', 'torchrun', 'slurm'])
      .default('local')
      .describe(
        'How the script runs: local (one process on this machine), torchrun (data-parallel processes on this node, with other nodes through a c10d rendezvous), slurm (a batch job: torchrun on each of its nodes).',
      ),
    device: z
      .string()
      .regex(devicePattern, {error: 'expected auto, cpu, cuda or cuda:N'})
      .default('auto')
      .describe('auto (CUDA when visible, else CPU), cpu, cuda or cuda:N.'),
    gpus: z
      .union([z.literal('all'), z.int().min(0), z.array(z.int().min(0)).min(1)])
      .default('all')
      .describe('GPUs the run may see (CUDA_VISIBLE_DEVICES): all, a count (the first N), or a list of ids.'),
    python: z
      .string()
      .min(1)
      .optional()
      .describe('Python interpreter for this experiment (after --python and MLX_PYTHON; before mlx.yaml).'),
    nproc_per_node: z
      .union([z.literal('auto'), z.int().min(1).max(1024)])
      .default('auto')
      .describe(
        'torchrun: processes on each node; auto: one per visible GPU when the run trains on CUDA, else 1 (a number N: N CPU processes with gloo). data.batch_size is per process.',
      ),
    nnodes: z
      .int()
      .min(1)
      .max(10_000)
      .default(1)
      .describe('torchrun: how many nodes train together (run the same mlx run on each, with its node_rank).'),
    node_rank: z
      .int()
      .min(0)
      .default(0)
      .describe('torchrun: this node (0 hosts the run record and ingests the metrics; the others join it).'),
    rdzv_backend: z
      .enum(['c10d'])
      .default('c10d')
      .describe("torchrun: the rendezvous (torch's c10d store, on the endpoint's host)."),
    rdzv_endpoint: z
      .string()
      .regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, {error: 'expected HOST:PORT'})
      .nullable()
      .default(null)
      .describe(
        'torchrun: HOST:PORT where the nodes meet (needed with nnodes > 1; null: one node, a free local port).',
      ),
    max_restarts: z
      .int()
      .min(0)
      .max(100)
      .default(0)
      .describe(
        'torchrun: times the workers are restarted after a failure; each restart goes on from the newest checkpoint.',
      ),
    slurm: Slurm.prefault({}),
  })
  .superRefine((launch, context) => {
    const problem = (path: string, message: string) =>
      context.addIssue({code: 'custom', path: [path], message, input: undefined})
    if (launch.node_rank >= launch.nnodes) problem('node_rank', `node_rank must be below nnodes (${launch.nnodes})`)
    if (launch.nnodes > 1 && launch.rdzv_endpoint === null)
      problem('rdzv_endpoint', 'several nodes meet at a rendezvous endpoint: set rdzv_endpoint to HOST:PORT of node 0')
    if (launch.launcher === 'local' && (launch.nnodes > 1 || launch.max_restarts > 0)) {
      problem(launch.nnodes > 1 ? 'nnodes' : 'max_restarts', 'needs launch.launcher: torchrun')
    }
    if (launch.launcher === 'slurm' && launch.nnodes > 1)
      problem('nnodes', "with Slurm, the job's nodes are launch.slurm.nodes (mlx runs torchrun on each)")
  })
  .describe('How and where the training script is launched.')

// -----------------------------------------------------------------------------
// what every task shares

export const Metrics = (primary: string) =>
  z
    .strictObject({
      primary: z
        .string()
        .min(1)
        .default(primary)
        .describe('The metric that ranks runs (mlx runs, early stopping and best checkpoints by default).'),
      goal: Goal.default('auto').describe(
        'Whether lower (min) or higher (max) is better; auto: from the name (loss: min, acc: max).',
      ),
    })
    .describe('Which metric decides between runs.')

/** A task branch's discriminator: the recipe, which names the template that generates the script. */
export const taskLiteral = <Task extends string>(task: Task) =>
  z.literal(task).describe('The recipe: which template generates the script.')

export const header = {
  extends: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .optional()
    .describe('Base config file(s) to start from, relative to this file; later ones and this file win.'),
  name: z
    .string()
    .max(NAME_MAX_LENGTH)
    .regex(NAME_PATTERN, {error: NAME_RULE})
    .describe('Experiment name; runs are listed and compared by it.'),
}

const bounds = (what: string) => z.tuple([z.number(), z.number()]).describe(`[low, high]: ${what}`)

/** One swept param's values: a range (uniform, log-uniform, integers) or a list to choose from. */
export const SweepDistribution = z.union([
  z.strictObject({uniform: bounds('any real number between them')}),
  z.strictObject({loguniform: bounds('between them on a log scale (both above 0): learning rates, weight decay')}),
  z.strictObject({int: bounds('any integer between them, both included')}),
  z.strictObject({logint: bounds('integers between them on a log scale (both at least 1): widths, batch sizes')}),
  z.strictObject({
    choice: z
      .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
      .min(1)
      .max(1000)
      .describe('the values to choose from'),
  }),
])

export const SWEEP_METHODS = ['grid', 'random', 'tpe', 'cmaes', 'nsga2'] as const
export const PRUNE_METHODS = ['asha', 'hyperband', 'median', 'none'] as const

/** mlx sweep's search over this config (mlx run ignores it). */
export const Sweep = z
  .strictObject({
    method: z
      .enum(SWEEP_METHODS)
      .default('tpe')
      .describe('The sampler (Optuna): grid, random, tpe (Bayesian), cmaes, nsga2 (several objectives).'),
    trials: z
      .int()
      .min(1)
      .max(100_000)
      .optional()
      .describe('Configurations to try (grid: default and at most the grid size; others: default 20).'),
    parallel: z.int().min(1).max(1024).default(1).describe('Runs at once.'),
    gpus_per_trial: z
      .int()
      .min(0)
      .max(1024)
      .default(0)
      .describe('GPUs each run gets, its own CUDA_VISIBLE_DEVICES slot (0: the runs train where launch says).'),
    objective: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1).max(8)])
      .optional()
      .describe('The metric to optimise (default metrics.primary, with its goal); a list: a Pareto front (nsga2).'),
    params: z
      .record(z.string().min(1).max(200), SweepDistribution)
      .default({})
      .describe('Config paths (optim.lr) and the values to search over.'),
    seeds: z
      .array(z.int().min(0))
      .min(1)
      .max(100)
      .optional()
      .describe('Each configuration trained once per seed (its objective: the mean).'),
    folds: z
      .int()
      .min(2)
      .max(100)
      .optional()
      .describe("k-fold cross-validation on the recipe's own split: each configuration trained once per fold."),
    prune: z
      .strictObject({
        method: z.enum(PRUNE_METHODS).default('none').describe('Early stopping of trials that will not win (Optuna).'),
        min_epochs: z.int().min(1).default(1).describe('Epochs every trial trains before it may be pruned.'),
        reduction: z.int().min(2).default(3).describe('asha/hyperband: the reduction factor between rungs.'),
      })
      .prefault({})
      .describe('Pruning, decided from the live metrics.'),
    seed: z.int().min(0).default(0).describe("The sampler's own seed."),
  })
  .describe('A search over this config: mlx sweep runs it (mlx run ignores it).')

const cardText = (about: string) => z.string().min(1).max(20_000).optional().describe(about)

/** What `mlx card` cannot know from the run: a model card's sections that people write (Mitchell et al., 2019). */
export const Card = z
  .strictObject({
    overview: cardText('What the model is, in a sentence or two.'),
    intended_use: cardText('Primary intended uses and users.'),
    out_of_scope: cardText('Uses the model was not made for, or should not be put to.'),
    factors: cardText('Groups, instruments or conditions its performance may vary with.'),
    limitations: cardText('Known limitations.'),
    ethical_considerations: cardText('Risks and harms, and what was done about them.'),
    caveats: cardText('Caveats and recommendations.'),
    authors: cardText('Who made it, and whom to ask.'),
    license: cardText('Under what terms it may be used.'),
  })
  .describe("A model card's sections only people can write: mlx card fills them in (mlx run ignores it).")

export const about = {
  description: z.string().max(10_000).default('').describe('Free text about the experiment, kept with each run.'),
  tags: z.array(z.string().min(1).max(100)).default([]).describe('Labels for finding runs.'),
  seed: z.int().min(0).default(0).describe('Seeds Python, NumPy and PyTorch; also fixes the train/val split.'),
  sweep: Sweep.optional(),
  card: Card.optional(),
}

/** Training diagnostics: off by default where they cost time (docs/analysis.md). */
export const Analysis = z
  .strictObject({
    histograms_every: z
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        "Every N optimiser steps: histograms of every weight and gradient and each layer's gradient norm, to TensorBoard (turns it on), with a warning when a norm vanishes or explodes. null: off.",
      ),
    vanishing_grad_norm: z
      .number()
      .min(0)
      .default(1e-7)
      .describe("A layer's gradient norm below this, when histograms are written, is warned of as vanishing."),
    exploding_grad_norm: z
      .number()
      .positive()
      .default(1e3)
      .describe(
        "A layer's gradient norm above this (or not finite), when histograms are written, is warned of as exploding.",
      ),
    embeddings: z
      .boolean()
      .default(false)
      .describe(
        "At the end: a 2-D map of the validation set's penultimate features (the input of the model's last linear layer), coloured by class, as embedding.png and TensorBoard projector data. Image, tabular and text recipes.",
      ),
    embedding_method: z
      .enum(['auto', 'tsne', 'umap'])
      .default('auto')
      .describe("auto: UMAP where umap-learn is installed, else scikit-learn's t-SNE."),
    embedding_points: z
      .int()
      .min(10)
      .max(20_000)
      .default(1000)
      .describe('At most this many validation examples in the map (an even, seeded sample).'),
    worst_samples: z
      .int()
      .min(0)
      .max(10_000)
      .default(20)
      .describe(
        'At the end: the N worst validation samples, beyond images: misclassified texts with their predicted and true labels (text), the utterances with the highest CER with their transcripts (speech). 0: none.',
      ),
  })
  .describe('Training diagnostics: histograms, gradient norms, embeddings, worst samples.')

export const trainingSections = {
  optim: Optim.prefault({}),
  scheduler: Scheduler.prefault({}),
  train: Train.prefault({}),
  launch: Launch.prefault({}),
  analysis: Analysis.prefault({}),
}

export const loaderFields = {
  batch_size: z
    .int()
    .min(1)
    .default(64)
    .describe('Samples per batch (per optimiser step unless grad_accum_steps > 1).'),
  val_fraction: fraction()
    .default(0.2)
    .describe('Share of the data held out for validation (fixed seed; stratified for classification).'),
  num_workers: z.int().min(0).default(0).describe('DataLoader worker processes.'),
  pin_memory: z
    .union([z.literal('auto'), z.boolean()])
    .default('auto')
    .describe('Page-locked batches for faster copies to the GPU; auto: when training on CUDA.'),
}

/** Cross-validation on the recipe's own split: mlx sweep sets them for `sweep.folds`; with a validation file of your own they do nothing. */
export const splitFields = {
  folds: z
    .int()
    .min(2)
    .max(100)
    .nullable()
    .default(null)
    .describe(
      'k-fold cross-validation: the data split into this many folds (seeded), one of them validating (null: val_fraction).',
    ),
  fold: z.int().min(0).max(99).default(0).describe('Which fold validates when data.folds is set (0-based).'),
}

/** The loss, metrics and training sections of the recipes that classify with cross-entropy. */
export const classificationSections = {
  loss: z
    .strictObject({
      name: z.enum(['cross_entropy']).default('cross_entropy').describe('Training loss.'),
      label_smoothing: z.number().min(0).lt(1).default(0).describe('Cross-entropy label smoothing.'),
      class_weights: z
        .enum(['none', 'balanced'])
        .default('none')
        .describe(
          "balanced: each class's loss weighted by n / (classes x its count in the training split), so rare classes count as much as common ones (raises macro-F1 on imbalanced data).",
        ),
    })
    .prefault({})
    .describe('The training loss.'),
  metrics: Metrics('val/acc').prefault({}),
  ...trainingSections,
}

/** A column of a user's CSV file or manifest. */
export const columnName = () => z.string().min(1).max(500)
