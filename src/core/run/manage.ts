/** Changing runs after the fact: tags, notes, names, removal. The store keeps each run's run.json in step with its row. */
import {rmSync} from 'node:fs'
import {excerpt, UserError} from '../errors.js'
import {nameProblem} from '../names.js'
import type {RunNote, RunRecord, Store} from '../store/store.js'

/** Adds tags (`tag`) and removes them (`-tag`, or those in `remove`); returns the run's tags after. */
export function retag(
  store: Store,
  run: RunRecord,
  changes: readonly string[],
  remove: readonly string[] = [],
): string[] {
  let tags = [...run.tags]
  for (const change of changes) {
    if (change.startsWith('-')) tags = tags.filter((tag) => tag !== change.slice(1))
    else if (!tags.includes(change)) tags.push(change)
  }
  tags = tags.filter((tag) => !remove.includes(tag))
  store.setTags(run.id, tags)
  return tags
}

/** The longest note a run keeps: a note, not a report. */
export const MAX_NOTE_CHARACTERS = 10_000

/** Adds a note to a run; an empty or over-long note is refused (exit 2). */
export function addNote(store: Store, run: RunRecord, text: string): RunNote[] {
  const note = text.trim()
  if (note === '') throw new UserError('the note is empty', 'for example: mlx note RUN "overfits after epoch 12"')
  if (note.length > MAX_NOTE_CHARACTERS)
    throw new UserError(
      `the note is ${note.length} characters long; a note keeps at most ${MAX_NOTE_CHARACTERS}`,
      'keep longer write-ups in a file beside the project, and note where',
    )
  return store.addNote(run.id, note)
}

export function renameRun(store: Store, run: RunRecord, name: string): void {
  const problem = nameProblem(name)
  if (problem) throw new UserError(`${JSON.stringify(excerpt(name))} is not a run name`, problem)
  store.rename(run.id, name)
}

/** Deletes runs that are not running: their rows and their directories. */
export function removeRuns(store: Store, runs: readonly RunRecord[]): void {
  const running = runs.filter((run) => run.status === 'running')
  if (running.length > 0)
    throw new UserError(
      `run ${running.map((run) => run.id).join(', ')} is still running`,
      'stop it first; nothing was removed',
    )
  for (const run of runs) {
    store.deleteRun(run.id)
    rmSync(run.runDir, {recursive: true, force: true})
  }
}
