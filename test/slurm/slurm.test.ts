/**
 * Slurm, for real: a single-node cluster of Debian's slurmctld, slurmd and munge, started
 * here by test/slurm/cluster.sh (installed first when missing and possible) and stopped after.
 * Where no cluster can be started (not root, no apt-get), every test here is skipped, and
 * the reason is printed. No fake sbatch.
 */
import {existsSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'
import {slurmLauncher} from '../../src/core/launch/slurm.js'
import {cli, repoRoot, tempProject} from '../helpers/cli.js'
import {launcherContract} from '../helpers/launcher-contract.js'
import {MINIMAL_CONFIG, waitFor} from '../helpers/process.js'
import {metricsInFile, metricsInStore} from '../helpers/store-check.js'

const CLUSTER = join(repoRoot, 'test', 'slurm', 'cluster.sh')
const STATE = join(tmpdir(), 'mlx-slurm-cluster')
const started = await execa(CLUSTER, ['start', STATE], {reject: false, timeout: 180_000})
const unavailable = started.exitCode === 0 ? null : String(started.stderr).trim() || `cluster.sh exited ${started.exitCode}`
if (unavailable) console.warn(`skipping the Slurm tests: ${unavailable}`)
afterAll(async () => {
  if (!unavailable) await execa(CLUSTER, ['stop', STATE], {reject: false})
})

const SLURM = ['--set', 'launch.launcher=slurm']

describe.skipIf(unavailable !== null)('launcher slurm (a real cluster)', () => {
  launcherContract((dir) =>
    slurmLauncher({
      scriptFile: join(dir, 'job.sbatch'),
      jobName: 'mlx-contract',
      python: join(repoRoot, '.venv', 'bin', 'python'),
      nodes: 1,
      nprocPerNode: 1,
      maxRestarts: 0,
      distributed: false,
      partition: null,
      gpusPerNode: 0,
      cpusPerTask: null,
      mem: null,
      time: null,
      account: null,
      qos: null,
      extra: [],
    }),
  )
})

describe.skipIf(unavailable !== null)('mlx run on Slurm', () => {
  it('a run submitted through mlx completes, DDP on two processes in its job, its metrics ingested', async () => {
    const project = tempProject({'c.yaml': MINIMAL_CONFIG})
    const run = await cli(['run', 'c.yaml', '--json', ...SLURM, '--set', 'launch.nproc_per_node=2'], {cwd: project})
    expect(run.exitCode, run.stderr).toBe(0)
    const record = JSON.parse(run.stdout)
    expect(record).toMatchObject({status: 'completed', exitCode: 0, launch: {launcher: 'slurm', worldSize: 2, nodes: 1}})
    expect(run.stderr).toMatch(/\[digits-cnn\] Slurm job \d+: RUNNING/)
    const script = readFileSync(join(record.runDir, 'job.sbatch'), 'utf8')
    expect(script).toMatch(/^#SBATCH --nodes=1$/m)
    expect(script).toMatch(/--rdzv-id "\$SLURM_JOB_ID"/)
    expect(await metricsInStore(join(project, '.mlx'), record.id)).toEqual(metricsInFile(record.runDir))
    expect(record.metrics['val/acc'].count).toBe(2)
    expect(readFileSync(join(record.runDir, 'stdout.log'), 'utf8')).toMatch(/^epoch 2\/2 /m)
  })

  it('a failing script ends failed with its exit code, and Slurm says FAILED', async () => {
    const project = tempProject({'fail.py': 'import sys\nprint("loss=1.5", flush=True)\nsys.exit(3)\n', 'c.yaml': 'name: fails\ntask: script\nscript: {path: fail.py}\n'})
    const run = await cli(['run', 'c.yaml', '--json', ...SLURM], {cwd: project})
    expect(run.exitCode).toBe(1)
    const record = JSON.parse(run.stdout)
    expect(record).toMatchObject({status: 'failed', exitCode: 3})
    expect(record.error).toMatch(/^the training script failed \(exit code 3; job \d+ FAILED \(NonZeroExitCode\)\)/)
    expect(record.metrics.loss.last).toBe(1.5)
  })

  it('--detach returns at once; later commands follow the job to its end; mlx stop cancels a running job', async () => {
    const project = tempProject({'c.yaml': MINIMAL_CONFIG})
    const quick = await cli(['run', 'c.yaml', '--json', '--detach', ...SLURM], {cwd: project})
    expect(quick.exitCode, quick.stderr).toBe(0)
    const detached = JSON.parse(quick.stdout)
    expect(detached.status).toBe('running')
    const status = async (id: string) => JSON.parse((await cli(['show', id, '--json'], {cwd: project})).stdout)
    let shown = await status(detached.id)
    for (const until = Date.now() + 120_000; shown.status === 'running' && Date.now() < until; shown = await status(detached.id)) await new Promise((resolve) => setTimeout(resolve, 500))
    expect(shown).toMatchObject({status: 'completed', exitCode: 0})
    expect(shown.metrics['val/acc'].count).toBe(2)

    const long = JSON.parse((await cli(['run', 'c.yaml', '--json', '--detach', ...SLURM, '--set', 'train.epochs=500'], {cwd: project})).stdout)
    const metrics = join(long.runDir, 'metrics.jsonl')
    await waitFor(() => existsSync(metrics) && readFileSync(metrics, 'utf8').includes('"event":"epoch_end"'))
    const stopped = await cli(['stop', long.id, '--json'], {cwd: project})
    expect(stopped.exitCode, stopped.stderr).toBe(0)
    expect(JSON.parse(stopped.stdout)).toMatchObject({status: 'interrupted', killed: false})
    expect(existsSync(join(long.runDir, 'checkpoints', 'last.pt'))).toBe(true)
    const queue = await execa('squeue', ['-h', '-o', '%i'])
    expect(String(queue.stdout).trim()).toBe('')
  })
})
