/** The command table (oclif's explicit strategy: one import, no manifest to go stale). */
import Compare from './compare.js'
import Doctor from './doctor.js'
import Init from './init.js'
import Resume from './resume.js'
import Run from './run.js'
import Runs from './runs.js'
import Schema from './schema.js'
import Show from './show.js'
import Validate from './validate.js'

export const COMMANDS = {
  compare: Compare,
  doctor: Doctor,
  init: Init,
  resume: Resume,
  run: Run,
  runs: Runs,
  schema: Schema,
  show: Show,
  validate: Validate,
}
