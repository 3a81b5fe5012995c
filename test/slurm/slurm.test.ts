/**
 * Slurm, for real: a single-node cluster of Debian's slurmctld, slurmd and munge, started
 * here by test/slurm/cluster.sh (installed first when missing and possible) in a state
 * directory of its own, and stopped after. Where Slurm cannot be installed (not root, no
 * apt-get, the packages refused: cluster.sh exits 3) every test here is skipped, and the
 * reason is printed. Any other failure to start a cluster fails the first test with the
 * daemon's own words: a green run never hides a Slurm suite that did not run. No fake sbatch.
 */
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'
import {slurmLauncher} from '../../src/core/launch/slurm.js'
import {processAlive} from '../../src/core/launch/processes.js'
import {cli, repoRoot, tempDir, tempProject} from '../helpers/cli.js'
import {launcherContract} from '../helpers/launcher-contract.js'
import {MINIMAL_CONFIG, waitFor} from '../helpers/process.js'
import {metricsInFile, metricsInStore} from '../helpers/store-check.js'

const CLUSTER = join(repoRoot, 'test', 'slurm', 'cluster.sh')
const STATE = mkdtempSync(join(tmpdir(), 'mlx-slurm-cluster-'))
const START_LIMIT_MS = 150_000
const started = await execa(CLUSTER, ['start', STATE], {reject: false, timeout: START_LIMIT_MS})
const problem =
  started.exitCode === 0
    ? null
    : started.timedOut
      ? `cluster.sh start did not finish in ${START_LIMIT_MS / 1000} s`
      : String(started.stderr).trim() || `cluster.sh exited with ${started.exitCode ?? started.signal}`
/** Exit status 3: Slurm cannot be installed on this machine; the only reason to skip. */
const cannotInstall = started.exitCode === 3
if (problem && cannotInstall) console.warn(`skipping the Slurm tests: ${problem}`)
// Every sbatch, scontrol and scancel, of the tests and of the mlx they start, talks to this cluster.
process.env.SLURM_CONF = join(STATE, 'slurm.conf')
afterAll(async () => {
  await execa(CLUSTER, ['stop', STATE], {reject: false})
})

describe.skipIf(cannotInstall)('the test cluster', () => {
  it("started (a cluster that cannot start fails here with the daemon's own words, never a silent skip)", () => {
    expect(problem, `test/slurm/cluster.sh start ${STATE}`).toBeNull()
  })

  it('a daemon that dies at start is reported at once in its own words, and what was started is stopped', async () => {
    // A slurmctld that exits with an error of its own, as one meeting another cluster's state did.
    const wrappers = tempDir()
    writeFileSync(
      join(wrappers, 'slurmctld'),
      '#!/bin/sh\necho "fatal: CLUSTER NAME MISMATCH: slurmctld has been started with \\"ClusterName=mlxtest\\"" >&2\nexit 1\n',
      {mode: 0o755},
    )
    const state = join(tempDir(), 'broken')
    const begun = Date.now()
    const broken = await execa(CLUSTER, ['start', state], {
      reject: false,
      timeout: 60_000,
      env: {PATH: `${wrappers}:${process.env.PATH}`},
    })
    expect(broken.exitCode, broken.stderr).toBe(1)
    expect(broken.stderr).toMatch(/slurmctld did not start:[\s\S]*CLUSTER NAME MISMATCH/)
    expect(Date.now() - begun).toBeLessThan(30_000)
    // Its slurmd was stopped: no process runs with this cluster's config, no pid file is left.
    expect(readdirSync(state).filter((file) => file.endsWith('.pid'))).toEqual([])
    expect(processesWith(join(state, 'slurm.conf'))).toEqual([])
  })
})

const unavailable = problem

/** Processes whose command line holds `text`. */
function processesWith(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text) && processAlive(Number(pid))
      } catch {
        return false
      }
    })
    .map(Number)
}

const SLURM = ['--set', 'launch.launcher=slurm']

describe.skipIf(unavailable !== null)('launcher slurm (a real cluster)', () => {
  launcherContract((dir) =>
    slurmLauncher({
      scriptFile: join(dir, 'job.sbatch'),
      runName: 'contract',
      runId: 'c0ffee0000',
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
    expect(record).toMatchObject({
      status: 'completed',
      exitCode: 0,
      launch: {launcher: 'slurm', worldSize: 2, nodes: 1},
    })
    expect(run.stderr).toMatch(/\[digits-cnn\] Slurm job \d+: RUNNING/)
    const script = readFileSync(join(record.runDir, 'job.sbatch'), 'utf8')
    expect(script).toMatch(/^#SBATCH --nodes=1$/m)
    expect(script).toMatch(/--rdzv-id "\$SLURM_JOB_ID"/)
    expect(await metricsInStore(join(project, '.mlx'), record.id)).toEqual(metricsInFile(record.runDir))
    expect(record.metrics['val/acc'].count).toBe(2)
    expect(readFileSync(join(record.runDir, 'stdout.log'), 'utf8')).toMatch(/^epoch 2\/2 /m)
  })

  it('values reach the batch script as data: a project path with a space and a %, a name with shell characters; a newline in --name is refused before anything is submitted', async () => {
    const parent = join(tempDir(), 'my projects 100%')
    mkdirSync(parent)
    const project = join(parent, "it's here")
    mkdirSync(project)
    writeFileSync(join(project, 'mlx.yaml'), '')
    writeFileSync(join(project, 'c.yaml'), MINIMAL_CONFIG.replace('epochs: 2', 'epochs: 1'))
    const name = 'x\'; touch owned; echo "$(touch owned2)" #'
    const run = await cli(['run', 'c.yaml', '--json', ...SLURM, '--name', name], {cwd: project})
    expect(run.exitCode, run.stderr).toBe(0)
    const record = JSON.parse(run.stdout)
    expect(record).toMatchObject({status: 'completed', name})
    // The job's output reached the run directory (the % was not taken for one of Slurm's patterns).
    expect(readFileSync(join(record.runDir, 'stdout.log'), 'utf8')).toMatch(/^epoch 1\/1 /m)
    const script = readFileSync(join(record.runDir, 'job.sbatch'), 'utf8')
    expect(script).toMatch(new RegExp(`^#SBATCH --job-name=mlx-x_touch_owned_echo_touch_owned2_-${record.id}$`, 'm'))
    for (const file of ['owned', 'owned2']) expect(existsSync(join(project, file)), file).toBe(false)

    const refused = await cli(['run', 'c.yaml', ...SLURM, '--name', 'x\ntouch owned #'], {cwd: project})
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr).toMatch(/--name "x\\ntouch owned #": name: a name is one line of text/)
    const runs = JSON.parse((await cli(['runs', '--json'], {cwd: project})).stdout)
    expect(runs).toHaveLength(1)
    expect(existsSync(join(project, 'owned'))).toBe(false)
  })

  it('a failing script ends failed with its exit code, and Slurm says FAILED', async () => {
    const project = tempProject({
      'fail.py': 'import sys\nprint("loss=1.5", flush=True)\nsys.exit(3)\n',
      'c.yaml': 'name: fails\ntask: script\nscript: {path: fail.py}\n',
    })
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
    for (
      const until = Date.now() + 120_000;
      shown.status === 'running' && Date.now() < until;
      shown = await status(detached.id)
    )
      await new Promise((resolve) => setTimeout(resolve, 500))
    expect(shown).toMatchObject({status: 'completed', exitCode: 0})
    expect(shown.metrics['val/acc'].count).toBe(2)

    const long = JSON.parse(
      (await cli(['run', 'c.yaml', '--json', '--detach', ...SLURM, '--set', 'train.epochs=500'], {cwd: project}))
        .stdout,
    )
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
