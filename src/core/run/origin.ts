/** What `mlx run` is asked to run: a config file and KEY=VALUE overrides from its arguments, or a previous run's config (--from). */
import {join, relative} from 'node:path'
import {UserError} from '../errors.js'
import {withRuns} from '../store/with-runs.js'

/** An argument that overrides a config value, Hydra-style: `optim.lr=0.01` (a dotted key, then `=`). */
const OVERRIDE = /^[A-Za-z_][\w-]*(\.[\w-]+)*=/

/**
 * The config file and the overrides among `mlx run`'s arguments: the config first (none with
 * --from), then KEY.PATH=VALUE overrides; anything else is an error that says what was expected.
 */
export function splitRunArguments(
  args: readonly string[],
  fromRun: boolean,
): {configFile?: string; overrides: string[]} {
  const [first, ...rest] = args
  const configFile = fromRun || first === undefined || OVERRIDE.test(first) ? undefined : first
  const overrides = configFile === undefined ? [...args] : rest
  if (fromRun && first !== undefined && !OVERRIDE.test(first))
    throw new UserError(
      `mlx run --from runs the config of a previous run: it takes no config file (got ${JSON.stringify(first)})`,
      'drop the file, or drop --from to run the file',
    )
  if (!fromRun && configFile === undefined)
    throw new UserError(
      'mlx run needs an experiment config (or --from RUN)',
      'for example: mlx run configs/image-classification.yaml optim.lr=0.01',
    )
  const stray = overrides.find((arg) => !OVERRIDE.test(arg))
  if (stray !== undefined)
    throw new UserError(
      `unexpected argument ${JSON.stringify(stray)}: after the config, mlx run takes KEY.PATH=VALUE overrides`,
      'for example: mlx run configs/x.yaml optim.lr=0.01 train.epochs=5 (or --set optim.lr=0.01); one config per run',
    )
  return {configFile, overrides}
}

/** The resolved config of the run `ref` names, as a file to load, and the run. */
export async function configOfRun(ref: string): Promise<{configFile: string; run: {id: string; name: string}}> {
  return withRuns(({store}) => {
    const run = store.resolveRun(ref)
    const file = join(run.runDir, 'config.yaml')
    return {configFile: relative(process.cwd(), file) || file, run: {id: run.id, name: run.name}}
  })
}
