/**
 * The experiment config: one zod schema is the source of truth for the TypeScript
 * types, validation, defaults, the JSON Schema (`mlx schema`) and the field reference
 * (docs/config-reference.md). Every object is strict (an unknown key is an error) and
 * every section has defaults, so the minimal config of docs/config.md is complete once parsed.
 *
 * Sections whose fields depend on a choice are discriminated unions: `task` picks the
 * recipe (and so the `data` and `model` fields: tasks/<task>.ts; the shared sections: sections.ts), `optim.name` the optimiser's fields,
 * `scheduler.name` the schedule's. A missing `optim.name` or `scheduler.name` means the
 * default branch.
 *
 * `.prefault({})` (not `.default({})`) makes a missing section parse as `{}`, so the
 * section's own field defaults fill it. Defaults that depend on other fields (the goal of
 * a metric, what early stopping watches) are filled after parsing, by `fillDerived`.
 */
import {z} from 'zod'
import {metricGoal, type Goal} from '../metrics/goal.js'
import * as sections from './sections.js'
import {TASK_MODULES} from './tasks/index.js'

const [image, tabular, text, speech, dqn, dlrm, script] = TASK_MODULES
const TaskConfigs = z
  .discriminatedUnion('task', [
    image.schema(sections),
    tabular.schema(sections),
    text.schema(sections),
    speech.schema(sections),
    dqn.schema(sections),
    dlrm.schema(sections),
    script.schema(sections),
  ])
  .describe('An mlx experiment config.')

type ParsedConfig = z.output<typeof TaskConfigs>
/** A parsed config once `fillDerived` has run: no `extends`, every goal decided. */
type Derived<C> = C extends unknown ? Omit<C, 'extends' | 'metrics'> & {metrics: {primary: string; goal: Goal}} : never

function resolveGoal(goal: z.output<typeof sections.Goal>, metric: string): Goal {
  return goal === 'auto' ? (metricGoal(metric) ?? 'min') : goal
}

/** The primary metric when the config names none: it depends on the task (and for tables, on the kind). */
function defaultPrimary(config: ParsedConfig): string {
  const task = TASK_MODULES.find((module) => module.recipe.task === config.task)!
  return (task.defaultPrimary as (config: ParsedConfig) => string)(config)
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
    early_stopping: stopping && {
      ...stopping,
      monitor: stopping.monitor ?? primary,
      mode: resolveGoal(stopping.mode, stopping.monitor ?? primary),
    },
    checkpoint: {
      ...checkpoint,
      monitor: checkpoint.monitor ?? primary,
      mode: resolveGoal(checkpoint.mode, checkpoint.monitor ?? primary),
    },
  }
  if (rest.scheduler.name === 'plateau')
    filled.scheduler = {...rest.scheduler, mode: resolveGoal(rest.scheduler.mode, rest.scheduler.monitor)}
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
