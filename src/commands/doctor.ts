import {Flags} from '@oclif/core'
import type {DoctorReport} from '../core/project/doctor.js'
import {ExitCode, ReportedFailure} from '../core/errors.js'
import {MlxCommand} from '../base-command.js'

export default class Doctor extends MlxCommand {
  static override summary =
    'Report which Python trains (and why), its torch, CUDA and GPUs, torchrun, Slurm, and whether the store is sound.'
  static override description =
    'Exit codes: 0 all is in order; 1 no Python here can train, or the store has a problem (each is named, with what to do).'
  static override flags = {
    python: Flags.string({description: 'check this interpreter instead of the one mlx would choose'}),
  }

  async run(): Promise<DoctorReport> {
    const {flags} = await this.parse(Doctor)
    const [{diagnose}, {openProject}] = await Promise.all([
      import('../core/project/doctor.js'),
      import('../core/project/project.js'),
    ])
    const report = await diagnose(await openProject(process.cwd()), flags.python)
    if (!this.jsonEnabled()) this.log(describe(report))
    if (!report.ok) {
      const what = [
        report.python.ok ? null : 'no Python here can train',
        report.store.ok ? null : 'the store has problems',
      ]
        .filter(Boolean)
        .join(', and ')
      throw new ReportedFailure(`mlx doctor: ${what} (see above)`, ExitCode.failed, report)
    }
    return report
  }
}

function describe(r: DoctorReport): string {
  const env = r.python.environment
  const mark = (ok: boolean) => (ok ? 'ok  ' : 'no  ')
  const lines = [
    `mlx ${r.mlx.version} (${r.mlx.installedAt}), Node ${r.mlx.node}`,
    `project  ${r.project.root}${r.project.file ? '' : ' (no mlx.yaml: the current folder)'}; store ${r.project.store}`,
    `${mark(r.python.ok)}python   ${r.python.command} (chosen by ${r.python.reason})${env ? `: Python ${env.python}, ${env.executable}` : ''}`,
  ]
  if (!env) {
    lines.push(`    ${r.python.problem ?? ''}`)
    if (r.python.hint) lines.push(`    hint: ${r.python.hint}`)
    lines.push(...describeStore(r))
    return lines.join('\n')
  }
  lines.push(`${mark(env.torch !== null)}torch    ${env.torch}`)
  lines.push(
    `${mark(env.cuda_available)}CUDA     ${env.cuda_available ? `${env.cuda_version}, cuDNN ${env.cudnn_version}` : `not available (torch built for CUDA ${env.cuda_version ?? 'none'}); training runs on the CPU`}`,
  )
  for (const gpu of env.gpus)
    lines.push(`    GPU ${gpu.index}: ${gpu.name}, ${gpu.memory_gib} GiB, compute ${gpu.capability}`)
  lines.push(`${mark(env.torchrun !== null)}torchrun ${env.torchrun ?? 'not found'}`)
  lines.push(
    `${mark(r.slurm.sbatch !== null)}slurm    ${r.slurm.sbatch ? `${r.slurm.version ?? '?'} (${r.slurm.sbatch})` : 'sbatch not found'}`,
  )
  lines.push(...describeStore(r))
  return lines.join('\n')
}

function describeStore(r: DoctorReport): string[] {
  const s = r.store
  const runs = s.runs === null ? 'its index cannot be read' : `${s.runs} run${s.runs === 1 ? '' : 's'}`
  const lines = [
    `${s.ok ? 'ok  ' : 'no  '}store    ${s.path}: ${runs}${s.readOnly ? `; read-only (${s.readOnly})` : ''}`,
  ]
  if (s.indexed.length > 0)
    lines.push(
      `    indexed ${s.indexed.length} run${s.indexed.length === 1 ? '' : 's'} the index lacked, from their directories`,
    )
  for (const problem of s.problems) lines.push(`    ${problem}`)
  if (s.hint) lines.push(`    hint: ${s.hint}`)
  return lines
}
