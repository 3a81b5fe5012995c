/**
 * The base of every command: the one handler that prints typed errors (message and
 * hint on stderr, no stack trace) and sets the exit code of the contract.
 */
import {Command, Flags} from '@oclif/core'
import {ConfigError, excerpt, MlxError, ReportedFailure} from './core/errors.js'
import {RUN_STATUSES} from './core/store/status.js'

/** The flags that pick runs by status and tag, shared by the commands that list and compare runs. */
export const runFilterFlags = {
  status: Flags.string({
    description: 'only runs with this status; repeatable',
    options: [...RUN_STATUSES],
    multiple: true,
  }),
  tag: Flags.string({
    description: "only runs with this tag (the config's tags); repeatable: all must match",
    multiple: true,
  }),
}

/** --set, for the commands that read an experiment config. */
export const configFlags = {
  set: Flags.string({
    char: 's',
    description: 'override a config value: KEY.PATH=VALUE (VALUE is YAML); repeatable, before or after the config',
    multiple: true,
    // One value per --set: `--set k=v CONFIG` leaves CONFIG an argument.
    multipleNonGreedy: true,
  }),
}

/** runFilterFlags and the --where and --sort that select and order runs by any field. */
export const runSelectionFlags = {
  where: Flags.string({
    char: 'w',
    description:
      'keep the runs that match: "optim.lr < 0.01 and status = completed and val/acc >= 0.9" (fields: params, metrics, id, name, task, status, duration, tag, note)',
  }),
  sort: Flags.string({description: 'order by a field: KEY, KEY:asc or KEY:desc (metrics: best first by default)'}),
  ...runFilterFlags,
}

/** The longest line an error message prints (a traceback's lines, a config's diagnostics fit). */
const MAX_MESSAGE_LINE = 2000

export abstract class MlxCommand extends Command {
  static override enableJsonFlag = true

  /**
   * `--json` output, written as JSON.stringify writes it: oclif's own logJson tokenizes the whole text to
   * colour it, which for a large compare costs more than the output itself (bench/json-output.mjs).
   */
  override logJson(json: unknown): void {
    process.stdout.write(JSON.stringify(json, null, 2) + '\n')
  }

  /** A message for the person at the terminal: always stderr, so stdout stays machine-readable. */
  protected say(message: string): void {
    process.stderr.write(message + '\n')
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (!(error instanceof MlxError)) return super.catch(error)
    if (this.jsonEnabled()) {
      if (error instanceof ReportedFailure) this.logJson(error.record)
      else if (error instanceof ConfigError) this.logJson({errors: error.diagnostics})
      else this.logJson({error: {message: error.message, hint: error.hint ?? null, exitCode: error.exitCode}})
    }
    const prefix = error instanceof ConfigError ? '' : 'error: '
    // Whatever a message quotes, no line of it runs on for pages.
    const message = (prefix + error.message + (error.hint ? `\nhint: ${error.hint}` : ''))
      .split('\n')
      .map((line) => excerpt(line, MAX_MESSAGE_LINE))
      .join('\n')
    this.say(message)
    process.exitCode = error.exitCode
    return undefined
  }
}
