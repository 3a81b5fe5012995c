/**
 * Launching beyond one process, end to end with real torchrun (the project's PyTorch) and
 * DDP over gloo on the CPU: two processes on one node, a worker killed under max_restarts,
 * two nodes over loopback, and mlx stop from another terminal.
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {execaSync} from 'execa'
import {describe, expect, it} from 'vitest'
import {cli, startCli, tempProject} from '../helpers/cli.js'
import {MINIMAL_CONFIG, waitFor} from '../helpers/process.js'
import {metricsInFile, metricsInStore, trainerPid, type MetricRow} from '../helpers/store-check.js'

const TORCHRUN = ['--set', 'launch.launcher=torchrun', '--set', 'launch.nproc_per_node=2']

function runIds(project: string): string[] {
  const runs = join(project, '.mlx', 'runs')
  return existsSync(runs) ? readdirSync(runs) : []
}

/** Each (metric, step) once: no rank, restart or replay logged a step twice. */
function duplicatedSteps(rows: readonly MetricRow[]): string[] {
  const seen = new Set<string>()
  return rows.map((row) => `${row.key}@${row.step}`).filter((key) => seen.has(key) || (seen.add(key), false))
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}
  await new Promise((resolve) => server.close(resolve))
  return port
}

function lastValue(rows: readonly MetricRow[], key: string): number {
  return rows.filter((row) => row.key === key).at(-1)!.value!
}

describe('mlx run with torchrun (DDP on CPU, gloo)', () => {
  it('two processes train the digits recipe to the accuracy of one; the record says world size 2; no metric is logged twice', async () => {
    const project = tempProject({'c.yaml': MINIMAL_CONFIG.replace('train: {epochs: 2}', 'train: {epochs: 8}')})
    const one = JSON.parse((await cli(['run', 'c.yaml', '--json'], {cwd: project})).stdout)
    // data.batch_size is per process: two processes of 32 take the steps of one process of 64.
    const two = await cli(['run', 'c.yaml', '--json', ...TORCHRUN, '--set', 'data.batch_size=32'], {cwd: project})
    expect(two.exitCode, two.stderr).toBe(0)
    const record = JSON.parse(two.stdout)
    expect(record.launch).toEqual({launcher: 'torchrun', worldSize: 2, nodes: 1})
    expect(one.launch).toEqual({launcher: 'local', worldSize: 1, nodes: 1})

    const stored = await metricsInStore(join(project, '.mlx'), record.id)
    expect(stored).toEqual(metricsInFile(record.runDir))
    expect(duplicatedSteps(stored)).toEqual([])
    // 1,437 training images: 23 batches of 32 in each of two processes.
    expect(startEvent(record.runDir)).toMatchObject({
      world_size: 2,
      batch_size: 32,
      steps_per_epoch: 23,
      total_steps: 184,
    })
    expect(stored.filter((row) => row.key === 'val/acc')).toHaveLength(8)

    // Validation covers the whole held-out set (every rank's share), so the two are on the same scale.
    const accuracy = [
      lastValue(await metricsInStore(join(project, '.mlx'), one.id), 'val/acc'),
      lastValue(stored, 'val/acc'),
    ]
    expect(accuracy[0]).toBeGreaterThan(0.95)
    expect(accuracy[1]).toBeGreaterThan(0.95)
    expect(Math.abs(accuracy[0]! - accuracy[1]!)).toBeLessThan(0.03)
    // Rank 0 alone writes the output: one line per epoch, one set of checkpoints.
    expect(readFileSync(join(record.runDir, 'stdout.log'), 'utf8').match(/^epoch \d+\/8/gm)).toHaveLength(8)
    expect(readdirSync(join(record.runDir, 'checkpoints')).sort()).toEqual(['best.pt', 'last.pt'])

    const shown = await cli(['show', record.id], {cwd: project})
    expect(shown.stdout).toMatch(/^torchrun: 2 processes on 1 node$/m)
  })

  it('the tabular recipe too: wine on two processes, validation over both shares, no metric twice', async () => {
    const project = join(tempProject(), 'tabular')
    expect((await cli(['init', project, '--template', 'tabular'], {cwd: tempProject()})).exitCode).toBe(0)
    const run = await cli(['run', 'configs/tabular.yaml', '--json', ...TORCHRUN, '--set', 'train.epochs=10'], {
      cwd: project,
    })
    expect(run.exitCode, run.stderr).toBe(0)
    const record = JSON.parse(run.stdout)
    expect(record.launch).toEqual({launcher: 'torchrun', worldSize: 2, nodes: 1})
    expect(record.metrics['val/acc'].last).toBeGreaterThan(0.9)
    expect(duplicatedSteps(await metricsInStore(join(project, '.mlx'), record.id))).toEqual([])
  })

  it('a worker killed under max_restarts: 1 restarts from the newest checkpoint and completes, no step duplicated', async () => {
    const project = tempProject({
      'c.yaml': MINIMAL_CONFIG.replace(
        'train: {epochs: 2}',
        'train: {epochs: 40, log_every: 1, checkpoint: {every_epochs: 1}}',
      ),
    })
    const child = startCli(['run', 'c.yaml', '--json', ...TORCHRUN, '--set', 'launch.max_restarts=1'], {cwd: project})
    await waitFor(
      () =>
        runIds(project).length === 1 &&
        existsSync(join(project, '.mlx', 'runs', runIds(project)[0]!, 'checkpoints', 'epoch3.pt')),
    )
    const id = runIds(project)[0]!
    const agent = (await trainerPid(join(project, '.mlx'), id))!
    const workers = String(execaSync('pgrep', ['-P', String(agent)]).stdout)
      .split('\n')
      .map(Number)
    expect(workers).toHaveLength(2)
    process.kill(workers[1]!, 'SIGKILL')

    const result = await child
    expect(result.exitCode, String(result.stderr)).toBe(0)
    const record = JSON.parse(String(result.stdout))
    expect(record.status).toBe('completed')
    const lines = readFileSync(join(record.runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    const resumed = lines.filter((line) => line.event === 'resume')
    expect(resumed).toHaveLength(1)
    expect(resumed[0]).toMatchObject({restart: 1})
    expect(resumed[0].from_step).toBeGreaterThanOrEqual(3 * 12)
    expect(resumed[0].checkpoint).toMatch(/checkpoints\/(epoch\d+|best|last)\.pt$/)

    const stored = await metricsInStore(join(project, '.mlx'), id)
    expect(duplicatedSteps(stored)).toEqual([])
    expect(stored.filter((row) => row.key === 'train/loss').map((row) => row.step)).toEqual(
      Array.from({length: 40 * 12}, (_, i) => i + 1),
    )
    expect(stored.filter((row) => row.key === 'val/acc')).toHaveLength(40)
  })

  it('two nodes over loopback: the same mlx run on each (node_rank 0 and 1) is one run of world size 2', async () => {
    const project = tempProject({'c.yaml': MINIMAL_CONFIG.replace('train: {epochs: 2}', 'train: {epochs: 4}')})
    const nodes = [
      '--set',
      'launch.launcher=torchrun',
      '--set',
      'launch.nproc_per_node=1',
      '--set',
      'launch.nnodes=2',
      '--set',
      `launch.rdzv_endpoint=127.0.0.1:${await freePort()}`,
    ]
    const head = startCli(['run', 'c.yaml', '--json', ...nodes], {cwd: project})
    const other = startCli(['run', 'c.yaml', '--json', ...nodes, '--set', 'launch.node_rank=1'], {cwd: project})
    const [first, second] = await Promise.all([head, other])
    expect(first.exitCode, String(first.stderr)).toBe(0)
    expect(second.exitCode, String(second.stderr)).toBe(0)
    const record = JSON.parse(String(first.stdout))
    expect(JSON.parse(String(second.stdout)).id).toBe(record.id)
    expect(record.launch).toEqual({launcher: 'torchrun', worldSize: 2, nodes: 2})
    expect(runIds(project)).toEqual([record.id])
    expect(readdirSync(record.runDir)).toContain('node1')

    const stored = await metricsInStore(join(project, '.mlx'), record.id)
    expect(duplicatedSteps(stored)).toEqual([])
    expect(stored.filter((row) => row.key === 'val/acc')).toHaveLength(4)
    const runs = JSON.parse((await cli(['runs', '--json'], {cwd: project})).stdout)
    expect(runs).toEqual([expect.objectContaining({id: record.id, status: 'completed'})])
  })

  it('a node other than 0 with no run to join: exit 2 and a hint, after its wait', {timeout: 200_000}, async () => {
    const project = tempProject({'c.yaml': MINIMAL_CONFIG})
    const joined = await cli(
      [
        'run',
        'c.yaml',
        '--set',
        'launch.launcher=torchrun',
        '--set',
        'launch.nnodes=2',
        '--set',
        'launch.node_rank=1',
        '--set',
        'launch.rdzv_endpoint=127.0.0.1:1',
      ],
      {cwd: project, env: {MLX_JOIN_WAIT_SECONDS: '1'}},
    )
    expect(joined.exitCode).toBe(2)
    expect(joined.stderr).toMatch(/node 1: no run "digits-cnn" of node 0 on rendezvous 127\.0\.0\.1:1 appeared/)
    expect(joined.stderr).toMatch(/hint: start the same mlx run on node 0/)
    expect(runIds(project)).toEqual([])
  })
})

describe('mlx stop', () => {
  it.each([
    ['local', []],
    ['torchrun', TORCHRUN],
  ])(
    'stops a %s run from another terminal: checkpoint saved, status interrupted, the follower exits 130',
    async (_launcher, flags) => {
      const project = tempProject({'c.yaml': MINIMAL_CONFIG.replace('train: {epochs: 2}', 'train: {epochs: 500}')})
      const follower = startCli(['run', 'c.yaml', ...flags], {cwd: project})
      const metricsFile = () => join(project, '.mlx', 'runs', runIds(project)[0]!, 'metrics.jsonl')
      await waitFor(
        () =>
          runIds(project).length === 1 &&
          existsSync(metricsFile()) &&
          readFileSync(metricsFile(), 'utf8').includes('"event":"epoch_end"'),
      )
      const id = runIds(project)[0]!
      const stopped = await cli(['stop', id.slice(0, 6), '--json'], {cwd: project})
      expect(stopped.exitCode, stopped.stderr).toBe(0)
      expect(JSON.parse(stopped.stdout)).toEqual({id, name: 'digits-cnn', status: 'interrupted', killed: false})
      expect((await follower).exitCode).toBe(130)
      const runDir = join(project, '.mlx', 'runs', id)
      expect(existsSync(join(runDir, 'checkpoints', 'last.pt'))).toBe(true)
      expect(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')).toMatch(/"event":"interrupted","signal":"SIGINT"/)

      const again = await cli(['stop', id], {cwd: project})
      expect(again.exitCode).toBe(2)
      expect(again.stderr).toMatch(/run \w+ is not running \(it is interrupted\)/)
    },
  )
})

function startEvent(runDir: string): Record<string, unknown> {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .find((line) => line.event === 'start')
}

describe('GPUs (CUDA cases skip where there is none, and say so)', () => {
  const gpus = Number(
    String(execaSync('nvidia-smi', ['-L'], {reject: false}).stdout ?? '')
      .split('\n')
      .filter((line) => line.startsWith('GPU')).length,
  )

  it.skipIf(gpus < 1)('launch.gpus: 1 with launch.device: cuda trains on the first GPU (needs a GPU)', async () => {
    const project = tempProject({'c.yaml': MINIMAL_CONFIG})
    const run = await cli(['run', 'c.yaml', '--json', '--set', 'launch.device=cuda', '--set', 'launch.gpus=1'], {
      cwd: project,
    })
    expect(run.exitCode, run.stderr).toBe(0)
    const record = JSON.parse(run.stdout)
    expect(startEvent(record.runDir)).toMatchObject({device: 'cuda', world_size: 1})
    expect(record.metrics['perf/cuda_max_memory_gib'].last).toBeGreaterThan(0)
  })

  it.skipIf(gpus < 2)(
    'torchrun with nproc_per_node auto: a process per GPU, NCCL, rank 0 on cuda:0 (needs two GPUs)',
    async () => {
      const project = tempProject({'c.yaml': MINIMAL_CONFIG})
      const run = await cli(
        ['run', 'c.yaml', '--json', '--set', 'launch.launcher=torchrun', '--set', 'launch.gpus=2'],
        {cwd: project},
      )
      expect(run.exitCode, run.stderr).toBe(0)
      const record = JSON.parse(run.stdout)
      expect(record.launch).toEqual({launcher: 'torchrun', worldSize: 2, nodes: 1})
      expect(startEvent(record.runDir)).toMatchObject({device: 'cuda:0', world_size: 2})
      expect(duplicatedSteps(await metricsInStore(join(project, '.mlx'), record.id))).toEqual([])
    },
  )

  it.skipIf(gpus > 0)(
    'launch.device: cuda on a machine without a GPU: exit 2, what was asked, a hint, no run (skipped where a GPU exists)',
    async () => {
      const project = tempProject({'c.yaml': MINIMAL_CONFIG})
      const run = await cli(['run', 'c.yaml', '--set', 'launch.device=cuda'], {cwd: project})
      expect(run.exitCode).toBe(2)
      expect(run.stderr).toMatch(
        /the config asks for CUDA GPUs \(launch\.device: cuda, launch\.gpus: "all"\) but torch sees none here/,
      )
      expect(run.stderr).toMatch(/hint: train on the CPU with --set launch\.device=cpu/)
      expect(run.stderr).not.toMatch(/\n\s+at /)
      expect(runIds(project)).toEqual([])
    },
  )
})
