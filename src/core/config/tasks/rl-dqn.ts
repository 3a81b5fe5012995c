/** The rl-dqn task: its config's schema branch, its default primary metric, and what mlx knows of its recipe. */
import {type Recipe} from '../task.js'
import type * as Sections from '../sections.js'

/**
 * The task's branch of the config schema, made of zod and the shared sections that schema.ts hands in. This
 * module loads no zod itself, so a command that needs only the recipe facts below (compare) loads none either.
 */
export function schema({
  z,
  about,
  fraction,
  header,
  Metrics,
  positive,
  trainingSections,
  taskLiteral,
}: typeof Sections) {
  const RlDqn = z
    .strictObject({
      ...header,
      task: taskLiteral('rl-dqn'),
      ...about,
      data: z
        .strictObject({
          env: z
            .string()
            .min(1)
            .default('CartPole-v1')
            .describe(
              'A gymnasium environment with discrete actions and vector observations (bundled, offline: CartPole-v1, Acrobot-v1, MountainCar-v0, LunarLander-v3 with Box2D).',
            ),
          num_envs: z
            .int()
            .min(1)
            .default(1)
            .describe(
              'Environments stepped together (one SyncVectorEnv); each step of them all collects num_envs transitions.',
            ),
          steps_per_epoch: z
            .int()
            .min(1)
            .default(5000)
            .describe('Environment steps (transitions collected) per epoch.'),
          replay_size: z
            .int()
            .min(1)
            .default(50000)
            .describe('Transitions the replay buffer holds; the oldest go first.'),
          batch_size: z.int().min(1).default(64).describe('Transitions per update, sampled uniformly from the buffer.'),
          learning_starts: z.int().min(0).default(1000).describe('Transitions collected before the first update.'),
          update_every: z.int().min(1).default(1).describe('Steps of the environments between updates.'),
          exploration: z
            .strictObject({
              start: z
                .number()
                .min(0)
                .max(1)
                .default(1)
                .describe('Epsilon at the start: the chance of a random action.'),
              end: z.number().min(0).max(1).default(0.05).describe('Epsilon once decayed.'),
              decay_steps: z
                .int()
                .min(1)
                .default(10000)
                .describe('Environment steps over which epsilon falls linearly from start to end.'),
            })
            .prefault({})
            .describe('Epsilon-greedy exploration.'),
          eval_episodes: z
            .int()
            .min(1)
            .default(10)
            .describe('Greedy episodes per evaluation (val/return is their mean).'),
          return_window: z.int().min(1).default(20).describe('Finished training episodes that train/return averages.'),
        })
        .prefault({})
        .describe('Where experience comes from: the environments, exploration and the replay buffer.'),
      model: z
        .strictObject({
          arch: z
            .enum(['mlp'])
            .default('mlp')
            .describe('mlp: the Q-network, observation -> linear layers with ReLU -> one value per action.'),
          hidden: z.array(z.int().min(1)).min(1).default([128, 128]).describe('Widths of the hidden layers.'),
          target_update: z
            .enum(['hard', 'soft'])
            .default('hard')
            .describe(
              'hard: copy the online network into the target every target_every updates; soft: blend tau of it in after every update.',
            ),
          target_every: z.int().min(1).default(500).describe('hard: updates between copies.'),
          tau: fraction()
            .default(0.005)
            .describe('soft: the share of the online weights blended into the target per update (Polyak averaging).'),
        })
        .prefault({})
        .describe('The Q-network and its target network.'),
      loss: z
        .strictObject({
          name: z
            .enum(['huber', 'mse'])
            .default('huber')
            .describe('The temporal-difference loss: Huber (smooth L1) or squared error.'),
          huber_delta: positive().default(1).describe('huber: where the loss turns from quadratic to linear.'),
          gamma: z.number().min(0).max(1).default(0.99).describe('Discount of future rewards.'),
          double: z
            .boolean()
            .default(true)
            .describe('Double DQN: the online network picks the next action, the target network values it.'),
        })
        .prefault({})
        .describe('The training loss.'),
      metrics: Metrics('val/return').prefault({}),
      ...trainingSections,
    })
    .superRefine((config, context) => {
      if (config.train.grad_accum_steps !== 1)
        context.addIssue({
          code: 'custom',
          path: ['train', 'grad_accum_steps'],
          message: 'DQN makes one update per batch sampled from the replay buffer: raise data.batch_size instead',
          input: config.train.grad_accum_steps,
        })
      if (config.data.batch_size > config.data.replay_size)
        context.addIssue({
          code: 'custom',
          path: ['data', 'batch_size'],
          message: `a batch of ${config.data.batch_size} is more than the buffer holds (data.replay_size ${config.data.replay_size})`,
          input: config.data.batch_size,
        })
    })
    .describe('Deep Q-learning on a gymnasium environment.')

  return RlDqn
}

/** The primary metric when the config names none. */
export const defaultPrimary = (): string => 'val/return'

export const recipe: Recipe = {
  task: 'rl-dqn',
  summary:
    "DQN (Double DQN, replay, target network, epsilon-greedy) on gymnasium's CartPole-v1 or another classic-control environment (offline)",
  keyMetrics: ['val/return', 'train/return', 'train/episode_length', 'train/loss', 'train/q_mean', 'epsilon'],
  evalMetrics: () => ['val/return', 'val/return_std', 'val/length'],
  distributed: false,
  inputs: () => [],
}
