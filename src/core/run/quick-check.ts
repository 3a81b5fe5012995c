/**
 * The interpreter's quick check, started before the config is read: `mlx run` loads its modules and the
 * config (a tenth of a second and more) while Python starts. Light on purpose: it loads python.ts alone.
 */
import type {Project} from '../project/project.js'
import {checkPython, choosePython, type PythonChoice, type QuickCheck} from '../project/python.js'

export interface EarlyCheck {
  python: PythonChoice
  check: Promise<QuickCheck>
}

/**
 * The interpreter chosen without the config (--python, MLX_PYTHON, mlx.yaml, a .venv...) and its quick
 * check, started at once: Python starts while mlx loads the config, and the config's own
 * launch.python, where it names one, is checked after.
 */
export function startQuickCheck(project: Project, python?: string): EarlyCheck {
  const choice = choosePython(project, python)
  const check = checkPython(choice)
  check.catch(() => {})
  return {python: choice, check}
}
