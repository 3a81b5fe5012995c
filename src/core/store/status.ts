/** A run's status: its own small module, so that commands that only name statuses (flag options) load no store. */

/**
 * diverged: the loss became NaN or infinite, or exploded past train.divergence, and the script
 * stopped (after saving the last good checkpoint). pruned: a sweep's trial that its pruner stopped
 * early (with a checkpoint, as mlx stop stops a run), because it was not going to win.
 */
export type RunStatus = 'running' | 'completed' | 'failed' | 'diverged' | 'interrupted' | 'pruned'
export const RUN_STATUSES: readonly RunStatus[] = [
  'running',
  'completed',
  'failed',
  'diverged',
  'interrupted',
  'pruned',
]

/** What a run is for: training (mlx run, resume, sweep), or a profile of a few steps (mlx profile). */
export const RUN_KINDS = ['train', 'profile'] as const
export type RunKind = (typeof RUN_KINDS)[number]
