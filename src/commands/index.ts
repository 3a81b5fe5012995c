/**
 * The command table (oclif's explicit strategy: one import, no manifest to go stale). The build
 * bundles it with oclif (build/bundle-commands.mjs), and bin/run.js takes oclif's `execute` from
 * it: one oclif in the process, loaded as one module.
 */
export {execute} from '@oclif/core'
export {MlxHelp} from '../help.js'
import Card from './card.js'
import Compare from './compare.js'
import Diff from './diff.js'
import Doctor from './doctor.js'
import Export from './export.js'
import Gc from './gc.js'
import Init from './init.js'
import Logs from './logs.js'
import Note from './note.js'
import Plot from './plot.js'
import Profile from './profile.js'
import Rename from './rename.js'
import Resume from './resume.js'
import Run from './run.js'
import Runs from './runs.js'
import Rm from './rm.js'
import Schema from './schema.js'
import Show from './show.js'
import Stop from './stop.js'
import StoreRebuild from './store/rebuild.js'
import Sweep from './sweep.js'
import SweepResume from './sweep/resume.js'
import SweepShow from './sweep/show.js'
import Sweeps from './sweeps.js'
import Tag from './tag.js'
import TensorBoard from './tensorboard.js'
import Validate from './validate.js'

export const COMMANDS = {
  card: Card,
  compare: Compare,
  diff: Diff,
  doctor: Doctor,
  export: Export,
  gc: Gc,
  init: Init,
  logs: Logs,
  note: Note,
  plot: Plot,
  profile: Profile,
  rename: Rename,
  resume: Resume,
  run: Run,
  runs: Runs,
  rm: Rm,
  schema: Schema,
  show: Show,
  stop: Stop,
  'store:rebuild': StoreRebuild,
  sweep: Sweep,
  'sweep:resume': SweepResume,
  'sweep:show': SweepShow,
  sweeps: Sweeps,
  tag: Tag,
  tensorboard: TensorBoard,
  validate: Validate,
}
