/**
 * The sweep API the commands call: `prepareSweep` checks a new sweep and records it,
 * `prepareSweepResume` reads one back from the store; each returns the runner (to interrupt on
 * Ctrl-C) and `run`, which drives it to its end. Bad input stops before any trial starts.
 */
import type {Project} from '../project/project.js'
import {choosePython, countGpus} from '../project/python.js'
import type {Store} from '../store/store.js'
import {readDefinition} from './paths.js'
import {Sampler} from './sampler.js'
import {resolveSweep, type SweepOptions} from './spec.js'
import {
  baseConfigOf,
  baselineParams,
  createSweep,
  lockSweep,
  sweepPython,
  sweepState,
  SweepRunner,
  type SweepObserver,
  type SweepResult,
} from './sweep.js'

export interface SweepLaunch {
  runner: SweepRunner
  run(): Promise<SweepResult>
}

export async function prepareSweep(
  project: Project,
  store: Store,
  options: Omit<SweepOptions, 'countGpus' | 'root'> & {argv: readonly string[]; python?: string},
  observer: SweepObserver,
): Promise<SweepLaunch> {
  const {spec, base} = await resolveSweep({
    ...options,
    root: project.root,
    countGpus: () => countGpus(choosePython(project, options.python)),
  })
  const python = await sweepPython(project, {configFile: options.configFile, python: options.python}, base)
  const definition = createSweep(project, store, spec, base, options)
  const unlock = lockSweep(store, spec.name)
  const runner = new SweepRunner(project, store, definition, python, observer)
  return {
    runner,
    run: async () => {
      try {
        const baseline = baselineParams(spec, base)
        const sampler = await Sampler.start(python.choice, spec, [], baseline, baseline ? 0 : null)
        return await runner.run(sampler, {finished: [], open: []})
      } finally {
        unlock()
      }
    },
  }
}

export async function prepareSweepResume(
  project: Project,
  store: Store,
  name: string,
  observer: SweepObserver,
): Promise<SweepLaunch> {
  const definition = readDefinition(store, name)
  const base = baseConfigOf(store, definition.spec.name)
  const python = await sweepPython(project, definition, base)
  const unlock = lockSweep(store, definition.spec.name)
  const runner = new SweepRunner(project, store, definition, python, observer)
  return {
    runner,
    run: async () => {
      try {
        const state = await sweepState(store, definition.spec)
        const {spec} = definition
        const baseline = baselineParams(spec, base)
        const sampler = await Sampler.start(
          python.choice,
          spec,
          state.finished,
          state.runs.length === 0 ? baseline : null,
          baseline ? 0 : null,
        )
        return await runner.run(sampler, state)
      } finally {
        unlock()
      }
    },
  }
}
