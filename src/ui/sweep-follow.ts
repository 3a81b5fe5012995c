/**
 * Following a sweep in the terminal: a line per run started, pruned trial and finished trial on
 * stderr, Ctrl-C (and SIGTERM, SIGHUP) stopping every running trial with a checkpoint, and the
 * comparison table at the end. An interrupted sweep ends with exit 130 and says how to resume it.
 */
import {ExitCode, ReportedFailure} from '../core/errors.js'
import type {SweepLaunch} from '../core/sweep/api.js'
import {compareSweep, formatValue, sweepTable, type SweepComparison} from '../core/sweep/report.js'
import type {SweepObserver, SweepResult} from '../core/sweep/sweep.js'
import type {Store} from '../core/store/store.js'
import {printWidth} from './terminal.js'

export function sweepObserver(say: (line: string) => void): SweepObserver {
  return {
    onRunStart: (run, trial, resumed) =>
      say(`trial ${trial}: run ${run.id} ${run.name} ${resumed ? 'resumed from its checkpoint' : 'started'}`),
    onPrune: (trial, epoch, value) => say(`trial ${trial}: pruned at epoch ${epoch} (objective ${formatValue(value)})`),
    onTrialEnd: (trial, state, values) =>
      say(`trial ${trial}: ${state}${values ? ` ${values.map((value) => formatValue(value)).join(', ')}` : ''}`),
  }
}

export async function followSweep(
  launch: SweepLaunch,
  store: Store,
  out: {log(line: string): void; say(line: string): void; json: boolean},
): Promise<SweepComparison & {result: SweepResult}> {
  const onSignal = () => launch.runner.interrupt()
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  for (const signal of signals) process.on(signal, onSignal)
  let result: SweepResult
  try {
    result = await launch.run()
  } finally {
    for (const signal of signals) process.off(signal, onSignal)
  }
  const comparison = {...compareSweep(store, result.name), result}
  if (!out.json) for (const line of sweepTable(comparison, printWidth())) out.log(line)
  if (result.interrupted)
    throw new ReportedFailure(
      `sweep ${result.name} interrupted: running trials stopped with a checkpoint; mlx sweep resume ${result.name} continues it`,
      ExitCode.interrupted,
      comparison,
    )
  return comparison
}
