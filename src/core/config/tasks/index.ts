/**
 * Every task: adding a recipe is one file here (its schema branch, default primary metric and
 * recipe facts), one line in TASK_MODULES, and one folder under templates/.
 */
import type {Task} from '../schema.js'
import type {Recipe} from '../task.js'
import * as imageClassification from './image-classification.js'
import * as recsysDlrm from './recsys-dlrm.js'
import * as rlDqn from './rl-dqn.js'
import * as script from './script.js'
import * as speechRecognition from './speech-recognition.js'
import * as tabular from './tabular.js'
import * as textClassification from './text-classification.js'

/** In the order `mlx init --list`, the schema and the reference list them. */
export const TASK_MODULES = [
  imageClassification,
  tabular,
  textClassification,
  speechRecognition,
  rlDqn,
  recsysDlrm,
  script,
] as const

/** Each task's recipe facts, by task. */
export const RECIPES: Readonly<Record<Task, Recipe>> = Object.fromEntries(
  TASK_MODULES.map(({recipe}) => [recipe.task, recipe]),
) as Record<Task, Recipe>
