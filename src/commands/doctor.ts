import {Flags} from '@oclif/core'
import type {DoctorReport} from '../core/doctor.js'
import {MlxCommand} from './base.js'

export default class Doctor extends MlxCommand {
  static override summary = 'Report which Python trains (and why), its torch, CUDA and GPUs, torchrun and Slurm.'
  static override flags = {
    python: Flags.string({description: 'check this interpreter instead of the one mlx would choose'}),
  }

  async run(): Promise<DoctorReport> {
    const {flags} = await this.parse(Doctor)
    const [{diagnose}, {openProject}] = await Promise.all([import('../core/doctor.js'), import('../core/project.js')])
    const report = await diagnose(await openProject(process.cwd()), flags.python)
    if (!this.jsonEnabled()) this.log(describe(report))
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
    return lines.join('\n')
  }
  lines.push(`${mark(env.torch !== null)}torch    ${env.torch}`)
  lines.push(`${mark(env.cuda_available)}CUDA     ${env.cuda_available ? `${env.cuda_version}, cuDNN ${env.cudnn_version}` : `not available (torch built for CUDA ${env.cuda_version ?? 'none'}); training runs on the CPU`}`)
  for (const gpu of env.gpus) lines.push(`    GPU ${gpu.index}: ${gpu.name}, ${gpu.memory_gib} GiB, compute ${gpu.capability}`)
  lines.push(`${mark(env.torchrun !== null)}torchrun ${env.torchrun ?? 'not found'}`)
  lines.push(`${mark(r.slurm.sbatch !== null)}slurm    ${r.slurm.sbatch ? `${r.slurm.version ?? '?'} (${r.slurm.sbatch})` : 'sbatch not found'}`)
  return lines.join('\n')
}
