/**
 * The run API of core/run/run.ts, as a caller that starts and follows many runs in one process
 * (sweeps) uses it: prepareRun, startRun, a RunHandle each, one store.
 */
import {join} from 'node:path'
import {expect, it} from 'vitest'
import {openProject} from '../../src/core/project/project.js'
import {prepareRun, startRun} from '../../src/core/run/run.js'
import {openStore} from '../../src/core/store/open.js'
import {tempProject} from '../helpers/cli.js'
import {MINIMAL_CONFIG} from '../helpers/process.js'
import {metricsInFile} from '../helpers/store-check.js'

it('one process starts three runs with different overrides, follows them together, and stores each apart', async () => {
  const root = tempProject({'c.yaml': MINIMAL_CONFIG.replace('train: {epochs: 2}', 'train: {epochs: 1}')})
  const project = await openProject(root)
  const store = await openStore(project.storeDir)
  try {
    const rates = [0.01, 0.003, 0.001]
    const prepared = await Promise.all(
      rates.map((lr) =>
        prepareRun(project, {configFile: join(root, 'c.yaml'), sets: [`optim.lr=${lr}`], name: `lr-${lr}`}),
      ),
    )
    const handles = await Promise.all(prepared.map((plan) => startRun(project, store, plan)))
    const records = await Promise.all(handles.map((handle) => handle.done))

    expect(records.map((run) => [run.name, run.status, run.exitCode])).toEqual(
      rates.map((lr) => [`lr-${lr}`, 'completed', 0]),
    )
    expect(new Set(records.map((run) => run.runDir)).size).toBe(3)
    for (const [index, run] of records.entries()) {
      expect((store.getRun(run.id)!.config.optim as {lr: number}).lr).toBe(rates[index])
      const stored = store.metrics(run.id).map(({line, key, step, value}) => ({line, key, step, value}))
      expect(stored.length).toBeGreaterThan(0)
      expect(stored).toEqual(metricsInFile(run.runDir))
    }
    // Three learning rates, three trainings: their losses differ.
    const losses = records.map((run) => store.metrics(run.id).find((row) => row.key === 'train/loss')!.value)
    expect(new Set(losses).size).toBe(3)
  } finally {
    store.close()
  }
})
