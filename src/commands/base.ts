/**
 * The base of every command: the one handler that prints typed errors (message and
 * hint on stderr, no stack trace) and sets the exit code of the contract.
 */
import {Command} from '@oclif/core'
import {ConfigError, MlxError, RunEndedError} from '../core/errors.js'

export abstract class MlxCommand extends Command {
  static override enableJsonFlag = true

  /** A message for the person at the terminal: always stderr, so stdout stays machine-readable. */
  protected say(message: string): void {
    process.stderr.write(message + '\n')
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (!(error instanceof MlxError)) return super.catch(error)
    if (this.jsonEnabled()) {
      if (error instanceof RunEndedError) this.logJson(error.record)
      else if (error instanceof ConfigError) this.logJson({errors: error.diagnostics})
      else this.logJson({error: {message: error.message, hint: error.hint ?? null, exitCode: error.exitCode}})
    }
    const prefix = error instanceof ConfigError ? '' : 'error: '
    this.say(prefix + error.message + (error.hint ? `\nhint: ${error.hint}` : ''))
    process.exitCode = error.exitCode
    return undefined
  }
}
