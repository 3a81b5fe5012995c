/**
 * `--help` as oclif draws it, with a command's summary said once: oclif prints it above the
 * usage and again at the head of the DESCRIPTION section; a command with a description keeps it
 * there only (lists of commands still show every summary). Exported from the command bundle
 * (package.json oclif.helpClass), so that help uses the one oclif the commands load.
 */
import {Help, type Command} from '@oclif/core'

export class MlxHelp extends Help {
  private shown: string | undefined

  override async showCommandHelp(command: Command.Loadable): Promise<void> {
    this.shown = command.id
    try {
      await super.showCommandHelp(command)
    } finally {
      this.shown = undefined
    }
  }

  override summary(command: Command.Loadable): string | undefined {
    return command.id === this.shown && command.description ? undefined : super.summary(command)
  }
}
