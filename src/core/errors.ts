/**
 * Typed errors. A user error carries exit code 2 and a hint; a run that failed carries
 * exit 1 (interrupted: 130) and its record. One handler (src/base-command.ts)
 * prints them, never with a stack trace.
 */

export const ExitCode = {
  ok: 0,
  failed: 1,
  badInput: 2,
  interrupted: 130,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** Input echoed in a message, cut short: a 1 MB value must not become a 1 MB message. */
export function excerpt(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`
}

export class MlxError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly hint?: string,
  ) {
    super(message)
    this.name = new.target.name
  }
}

/** Bad input: a config, a flag, an unknown run. Exit 2. */
export class UserError extends MlxError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.badInput, hint)
  }
}

/** The store cannot be used (its index is damaged, the disk is full): exit 1, with what to do about it. */
export class StoreError extends MlxError {
  constructor(message: string, hint: string) {
    super(message, ExitCode.failed, hint)
  }
}

/**
 * One problem in a config. `source` is a file (then `line` and `column` are 1-based)
 * or a flag such as `--set optim.lr=-1` (then they are absent).
 */
export interface Diagnostic {
  source: string
  line?: number
  column?: number
  path: string
  message: string
  hint?: string
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line === undefined ? d.source : `${d.source}:${d.line}:${d.column ?? 1}`
  const key = d.path ? ` ${d.path}:` : ''
  const hint = d.hint ? ` (${d.hint})` : ''
  return `${where}:${key} ${d.message}${hint}`
}

/** Every problem found in one or more config files, reported together. Exit 2. */
export class ConfigError extends UserError {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'))
  }
}

/** A command that did its work and found a failure to report (a run that failed, a doctor's finding): `--json` still prints its record. */
export class ReportedFailure extends MlxError {
  constructor(
    message: string,
    exitCode: ExitCode,
    readonly record: unknown,
  ) {
    super(message, exitCode)
  }
}

/** A run that ended without completing: exit 1 when it failed, 130 when interrupted; its final record. */
export class RunEndedError extends ReportedFailure {}
