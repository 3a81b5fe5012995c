/**
 * `mlx profile` on the image recipe, as a user meets it: a run of kind profile, a top-operators table
 * whose shares add up, a step split into its phases, and a trace TensorBoard's PyTorch profiler reads.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {cli, repoRoot, tempDir} from '../helpers/cli.js'

describe('mlx profile', () => {
  it('the image recipe: top operators whose shares add up, the phases of a step, a trace TensorBoard reads', async () => {
    const project = join(tempDir(), 'project')
    await cli(['init', project, '--template', 'image-classification'], {cwd: tempDir()})
    const profiled = await cli(['profile', 'configs/image-classification.yaml', '--steps', '3', '--json'], {
      cwd: project,
    })
    expect(profiled.exitCode, profiled.stderr).toBe(0)
    const {run, profile} = JSON.parse(profiled.stdout)
    expect(run).toMatchObject({kind: 'profile', status: 'completed', task: 'image-classification'})
    expect(profile.steps).toMatchObject({wait: 1, warmup: 1, active: 3, recorded: 3})
    const shares = profile.operators.reduce((sum: number, op: {cpu_share: number}) => sum + op.cpu_share, 0)
    expect(shares).toBeCloseTo(1, 9)
    expect(profile.operators[0].self_cpu_ms).toBeGreaterThanOrEqual(profile.operators[1].self_cpu_ms)
    expect(profile.operators.map((op: {name: string}) => op.name)).toContain('aten::convolution_backward')
    const phases = Object.values(profile.phases) as Array<{share: number}>
    expect(phases.reduce((sum, phase) => sum + phase.share, 0)).toBeCloseTo(1, 9)
    expect(Object.keys(profile.phases)).toEqual(['data', 'forward', 'backward', 'optimizer', 'other'])
    // Five steps trained in all (one skipped, one warming up, three recorded), as a run of its own.
    expect(run.metrics['train/loss']).toBeDefined()
    const trace = join(run.runDir, 'profile', profile.trace)
    expect(existsSync(trace)).toBe(true)

    const read = await execa(
      join(repoRoot, '.venv', 'bin', 'python'),
      [
        '-c',
        'import sys, tempfile\nfrom torch_tb_profiler.profiler.data import RunProfileData\nfrom torch_tb_profiler.profiler.run_generator import RunGenerator\ndata = RunProfileData.parse("rank0", None, sys.argv[1], tempfile.mkdtemp())\nprint(",".join(v.display_name for v in RunGenerator("rank0", None, data).generate_run_profile().views))',
        trace,
      ],
      {reject: false},
    )
    expect(read.exitCode, read.stderr).toBe(0)
    expect(read.stdout.trim().split(',')).toEqual(expect.arrayContaining(['Overview', 'Operator', 'Trace']))

    const text = await cli(['show', run.id], {cwd: project})
    expect(text.stdout).toMatch(/· image-classification · profile · completed/)
    const runs = await cli(['runs'], {cwd: project})
    expect(runs.stdout).toMatch(/digits-cnn \(profile\)\s+completed/)

    // The table as people read it: the shares printed add up to 100% too.
    const again = await cli(['profile', run.id, '--steps', '2'], {cwd: project})
    expect(again.exitCode, again.stderr).toBe(0)
    const printed = [...again.stdout.matchAll(/^\S.*?\s(\d+\.\d)%$/gm)].map((match) => Number(match[1]))
    expect(printed.reduce((sum, share) => sum + share, 0)).toBeGreaterThan(99.5)
    expect(printed.reduce((sum, share) => sum + share, 0)).toBeLessThan(100.5)
    expect(again.stdout).toMatch(/^a step: data [\d.]+ ms/m)
    expect(again.stdout).toMatch(/tensorboard --logdir .*profile/)
  })

  it('bad input: no such config or run, exit 2', async () => {
    const project = join(tempDir(), 'project')
    await cli(['init', project, '--template', 'image-classification'], {cwd: tempDir()})
    const missing = await cli(['profile', 'nosuch'], {cwd: project})
    expect(missing.exitCode).toBe(2)
    const steps = await cli(['profile', 'configs/image-classification.yaml', '--steps', '0'], {cwd: project})
    expect(steps.exitCode).toBe(2)
  })
})
