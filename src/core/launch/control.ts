/**
 * Each launcher's way to stop and watch what it started, by name: for mlx stop and for runs
 * no mlx follows any more. No launcher module is loaded here (execa alone would be a large
 * share of its start), so that listing runs stays quick.
 */
import type {LaunchControl, LauncherName} from './launcher.js'
import {groupAlive, stopGroup, stopTorchrunTree} from './processes.js'
import {jobAlive, stopJob} from './slurm-jobs.js'

export function launchControl(name: LauncherName): LaunchControl {
  switch (name) {
    case 'local':
      return {stop: stopGroup, alive: groupAlive}
    case 'torchrun':
      return {stop: stopTorchrunTree, alive: groupAlive}
    case 'slurm':
      return {stop: stopJob, alive: jobAlive}
    default: {
      const unreachable: never = name
      return unreachable
    }
  }
}
