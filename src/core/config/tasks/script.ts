/** The script task: its config's schema branch, its default primary metric, and what mlx knows of its recipe. */
import {type Recipe} from '../task.js'
import type * as Sections from '../sections.js'

/**
 * The task's branch of the config schema, made of zod and the shared sections that schema.ts hands in. This
 * module loads no zod itself, so a command that needs only the recipe facts below (compare) loads none either.
 */
export function schema({z, about, header, Launch, Metrics, taskLiteral}: typeof Sections) {
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
            context.addIssue({
              code: 'custom',
              message: `not a regular expression: ${(error as Error).message.replace(/^Invalid regular expression: /, '')}`,
              input: pattern,
            })
            return
          }
          if (!/\(\?P?<\w+>/.test(pattern) || regex.source === '')
            context.addIssue({
              code: 'custom',
              message: 'a pattern needs a named group for each value, like (?P<loss>[\\d.]+)',
              input: pattern,
            })
        })
        .describe(
          'A Python regular expression searched in each printed line; each named group (?P<name>...) holding a number is a metric; the groups step and epoch place the values.',
        ),
      metrics: z
        .record(z.string().regex(/^\w+$/, {error: 'expected a group name'}), metricKey)
        .optional()
        .describe(
          'Group name -> metric name (loss: train/loss); only these groups are kept. Left out: every group under its own name.',
        ),
    })
    .describe('How one kind of printed line becomes metrics.')

  const Script = z
    .strictObject({
      path: z
        .string()
        .min(1)
        .describe('The training script, relative to the config file (resolved when the config is read).'),
      args: z
        .array(z.string())
        .default([])
        .describe(
          'Its command-line arguments, passed as they are (no shell); {run_dir} in one becomes the run directory.',
        ),
      interpreter: z
        .enum(['python', 'none'])
        .default('python')
        .describe("python: run with the run's Python; none: the path is an executable."),
      patterns: z
        .array(ScriptPattern)
        .default([])
        .describe(
          'How printed lines become metrics (when the script writes none itself through mlx_runtime); the first that matches a line wins.',
        ),
      default_pattern: z
        .boolean()
        .default(true)
        .describe('Also read key: value and key=value pairs with numeric values from lines no pattern matched.'),
    })
    .describe('Your own training script, run unchanged.')

  const ScriptTask = z
    .strictObject({
      ...header,
      task: taskLiteral('script'),
      ...about,
      script: Script,
      metrics: Metrics('loss').prefault({}),
      launch: Launch.prefault({}),
    })
    .describe("A user's own training script.")

  return ScriptTask
}

/** The primary metric when the config names none. */
export const defaultPrimary = (): string => 'loss'

export const recipe: Recipe = {
  task: 'script',
  summary:
    'your own training script, run unchanged: metrics from mlx_runtime calls, or from its printed lines through patterns',
  keyMetrics: ['val/loss', 'train/loss', 'loss'],
  // Whatever the script prints: nothing to check a metric name against.
  evalMetrics: () => [],
  // The script's own business: mlx runs it under torchrun as it is.
  distributed: true,
  // script.path is checked where the config is read; what it reads is its own business.
  inputs: () => [],
}
