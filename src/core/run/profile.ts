/**
 * `mlx profile`: a run of a few of the recipe's real optimiser steps under torch.profiler
 * (python/mlx_runtime/profiling.py), recorded as a run of kind `profile`; its summary (top
 * operators, the split of a step into its phases, hints) comes back as the run's `profile` event.
 */
import {join, relative} from 'node:path'
import {alignedLines} from '../report/format.js'
import type {Store} from '../store/store.js'

/** The profiler's schedule: steps skipped, then warm-up steps, then `active` recorded steps. */
export interface ProfileRequest {
  wait: number
  warmup: number
  active: number
}

export interface ProfiledOperator {
  name: string
  calls: number
  self_cpu_ms: number
  cpu_share: number
  self_device_ms: number
  device_share: number
}

/** What the run's `profile` event holds (profiling.py's summary). */
export interface ProfileSummary {
  steps: ProfileRequest & {recorded: number}
  device: string
  threads: number
  step_ms: number
  operator_calls_per_step: number
  operators: ProfiledOperator[]
  phases: Record<string, {ms_per_step: number; share: number}>
  hints: string[]
  trace: string | null
}

/** What the run is given: the steps it trains (no more than the profile needs) and $MLX_PROFILE. */
export function profileLaunch(steps: number): {sets: string[]; env: Record<string, string>; request: ProfileRequest} {
  const request = {wait: 1, warmup: 1, active: steps}
  return {
    sets: [`train.max_steps=${request.wait + request.warmup + request.active}`],
    env: {MLX_PROFILE: JSON.stringify(request)},
    request,
  }
}

/** The summary of the run's latest profile, or null when it logged none (it ended before its recorded steps). */
export function profileOf(store: Store, runId: string): ProfileSummary | null {
  const event = store.events(runId, true).findLast((e) => e.event === 'profile')
  return event ? (event.data as unknown as ProfileSummary) : null
}

/** The summary as text: the top operators (shares of all operators' self time), a step's phases, hints, the trace. */
export function profileText(summary: ProfileSummary, runDir: string, root: string): string {
  const cuda = summary.device.startsWith('cuda')
  const percent = (share: number) => `${(share * 100).toFixed(1)}%`
  const rows = [
    ['operator', 'calls', 'self CPU ms', 'share', ...(cuda ? ['self CUDA ms', 'share'] : [])],
    ...summary.operators.map((op) => [
      op.name,
      String(op.calls),
      op.self_cpu_ms.toFixed(3),
      percent(op.cpu_share),
      ...(cuda ? [op.self_device_ms.toFixed(3), percent(op.device_share)] : []),
    ]),
  ]
  const table = alignedLines(rows, (column) => column > 0)
  const folder = relative(root, join(runDir, 'profile')) || join(runDir, 'profile')
  return [
    `profile of ${summary.steps.recorded} steps (after ${summary.steps.wait} skipped and ${summary.steps.warmup} warming up) on ${summary.device}, ${summary.threads} thread(s): ${summary.step_ms.toFixed(2)} ms a step, ${Math.round(summary.operator_calls_per_step)} operator calls a step`,
    ...table,
    `a step: ${Object.entries(summary.phases)
      .map(([name, phase]) => `${name} ${phase.ms_per_step.toFixed(2)} ms (${percent(phase.share)})`)
      .join(', ')}`,
    ...summary.hints.map((hint) => `hint: ${hint}`),
    `trace: ${summary.trace ? join(folder, summary.trace) : 'none written'} (tensorboard --logdir ${folder}: PyTorch Profiler tab; or open it in ui.perfetto.dev)`,
  ].join('\n')
}
