import {Flags} from '@oclif/core'
import {createInterface} from 'node:readline/promises'
import type {GcPlan} from '../core/run/gc.js'
import {UserError} from '../core/errors.js'
import {MlxCommand} from '../base-command.js'
import {withRuns} from '../core/store/with-runs.js'

export default class Gc extends MlxCommand {
  static override summary =
    'Free disk: keep only the best and last checkpoints of runs that are done; remove failed, diverged and interrupted runs older than --older-than.'
  static override description = `Every run that is not running keeps best*.pt, last.pt and the checkpoint mlx resume would continue from; its other checkpoints (epochN.pt, torn saves) go. Failed, diverged and interrupted runs that ended before the cut-off go whole (directory and index row). Completed runs are never removed. --dry-run says what would go and how much it frees; otherwise a terminal asks first, and elsewhere --yes is required.`
  static override examples = ['<%= config.bin %> gc --dry-run', '<%= config.bin %> gc --older-than 30d --yes']
  static override flags = {
    'older-than': Flags.string({
      description: 'remove failed, diverged and interrupted runs that ended before this: 14d, 1w, 2026-11-01',
      default: '14d',
    }),
    'dry-run': Flags.boolean({description: 'say what would be removed, remove nothing'}),
    yes: Flags.boolean({char: 'y', description: 'do not ask'}),
  }

  async run(): Promise<GcPlan & {dryRun: boolean}> {
    const {flags} = await this.parse(Gc)
    const [{applyGc, planGc}, {parseSince}, {formatBytes}] = await Promise.all([
      import('../core/run/gc.js'),
      import('../core/report/since.js'),
      import('../core/report/numbers.js'),
    ])
    const cutoff = parseSince(flags['older-than'], Date.now() / 1000, '--older-than')
    return withRuns(
      async ({store}) => {
        const plan = planGc(store, cutoff)
        for (const run of plan.runs)
          this.say(`run ${run.id} (${run.name}, ${run.status}, ended ${run.endedAt ?? '?'}): ${formatBytes(run.bytes)}`)
        for (const checkpoint of plan.checkpoints)
          this.say(`checkpoint ${checkpoint.id}/${checkpoint.path}: ${formatBytes(checkpoint.bytes)}`)
        const what = `${plan.runs.length} run${plan.runs.length === 1 ? '' : 's'} and ${plan.checkpoints.length} checkpoint${plan.checkpoints.length === 1 ? '' : 's'}, ${formatBytes(plan.bytes)}`
        if (flags['dry-run'] || plan.runs.length + plan.checkpoints.length === 0) {
          this.say(flags['dry-run'] ? `would remove ${what}` : 'nothing to remove')
          return {...plan, dryRun: Boolean(flags['dry-run'])}
        }
        if (!flags.yes) {
          if (!process.stdin.isTTY)
            throw new UserError(`removing ${what} needs confirmation`, 'pass --yes, or --dry-run to see it')
          const prompt = createInterface({input: process.stdin, output: process.stderr})
          const answer = await prompt.question(`remove ${what}? [y/N] `)
          prompt.close()
          if (!/^y(es)?$/i.test(answer.trim())) throw new UserError('nothing was removed')
        }
        applyGc(store, plan)
        this.say(`removed ${what}`)
        return {...plan, dryRun: false}
      },
      flags['dry-run'] ? 'read' : 'write',
    )
  }
}
