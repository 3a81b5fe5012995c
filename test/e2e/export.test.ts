/**
 * `mlx export` on a trained digits run, as a user meets it: every format checked against PyTorch and
 * timed, the figures in show and compare, the run otherwise untouched; and the bad input it refuses.
 * (Every recipe's export: test/e2e/recipes.test.ts.)
 */
import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, rmSync, writeFileSync, chmodSync, mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {cli, repoRoot, tempDir} from '../helpers/cli.js'

let project: string
let runId: string
let runDir: string

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')

beforeAll(async () => {
  project = join(tempDir(), 'project')
  await cli(['init', project, '--template', 'image-classification'], {cwd: tempDir()})
  const run = await cli(['run', 'configs/image-classification.yaml', '--set', 'train.epochs=2', '--json'], {
    cwd: project,
  })
  expect(run.exitCode, run.stderr).toBe(0)
  ;({id: runId, runDir} = JSON.parse(run.stdout))
})

describe('mlx export', () => {
  it('exports ONNX, TorchScript and torch.export with parity and latency; show and compare carry them; nothing else of the run changes', async () => {
    const metricsBefore = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    const checkpoints = Object.fromEntries(
      readdirSync(join(runDir, 'checkpoints')).map((name) => [name, digest(join(runDir, 'checkpoints', name))]),
    )
    const exported = await cli(['export', runId, '--json'], {cwd: project})
    expect(exported.exitCode, exported.stderr).toBe(0)
    const {report, dir} = JSON.parse(exported.stdout)
    expect(dir).toBe(join(runDir, 'export'))
    expect(report.checkpoint).toBe('checkpoints/best.pt')
    expect(report.batch_size).toBe(64) // the run's data.batch_size
    expect(report.inputs[0]).toMatchObject({shape: [64, 1, 8, 8], dtype: 'float32', dynamic_dims: [0]})
    for (const format of ['onnx', 'torchscript', 'export']) {
      const entry = report.formats[format]
      expect(entry.ok, format).toBe(true)
      expect(entry.max_abs).toBeLessThanOrEqual(1e-4)
      expect(entry.parity.unseen.ok).toBe(true)
      expect(readdirSync(join(runDir, 'export'))).toContain(entry.file)
    }
    for (const form of ['eager', 'onnx', 'torchscript', 'export']) {
      const timing = report.latency[form]
      expect(timing.b1.p50_ms, form).toBeGreaterThan(0)
      expect(timing.b1.p95_ms).toBeGreaterThanOrEqual(timing.b1.p50_ms)
      expect(timing.batch.calls).toBeGreaterThanOrEqual(30)
      expect(timing.throughput_per_s).toBeGreaterThan(0)
    }

    // The run's record: its metrics.jsonl only grew (the figures and an export event), its checkpoints are the same.
    const metricsAfter = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    expect(metricsAfter.startsWith(metricsBefore)).toBe(true)
    expect(metricsAfter.length).toBeGreaterThan(metricsBefore.length)
    for (const [name, sha] of Object.entries(checkpoints)) expect(digest(join(runDir, 'checkpoints', name))).toBe(sha)

    const show = await cli(['show', runId, '--json'], {cwd: project})
    const shown = JSON.parse(show.stdout)
    expect(shown.status).toBe('completed')
    expect(shown.export.formats.onnx).toMatchObject({ok: true, worst_output: 'output_0'})
    expect(shown.metrics['cost/latency_ms_b1/onnx'].last).toBeCloseTo(report.latency.onnx.b1.p50_ms, 6)
    const text = await cli(['show', runId], {cwd: project})
    expect(text.stdout).toMatch(/export of checkpoints\/best\.pt \(step \d+\).*tolerance 0\.0001/)
    expect(text.stdout).toMatch(/onnx\s+parity ok, max abs/)

    const compare = await cli(['compare', runId, '--json'], {cwd: project})
    const columns = Object.keys(JSON.parse(compare.stdout)[0].metrics)
    for (const form of ['eager', 'onnx', 'torchscript', 'export'])
      expect(columns).toContain(`cost/latency_ms_b1/${form}`)
    const fast = await cli(
      ['compare', '--where', 'cost/latency_ms_b1/onnx > 0', '--sort', 'cost/latency_ms_b1/onnx', '--json'],
      {cwd: project},
    )
    expect(JSON.parse(fast.stdout).map((run: {id: string}) => run.id)).toEqual([runId])

    // Exported again: export/ is replaced, and the run still shows the latest export.
    const again = await cli(['export', runId, '--format', 'onnx', '--checkpoint', 'last', '--no-bench'], {
      cwd: project,
    })
    expect(again.exitCode, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/checkpoints\/last\.pt/)
    expect(readdirSync(join(runDir, 'export')).sort()).toEqual(['model.onnx', 'report.json'])
  })

  it('a fixed batch: the graphs take --batch-size rows, timed at that size only', async () => {
    const exported = await cli(
      ['export', runId, '--format', 'torchscript', '--batch-size', '4', '--no-dynamic-batch', '--json'],
      {cwd: project},
    )
    expect(exported.exitCode, exported.stderr).toBe(0)
    const {report} = JSON.parse(exported.stdout)
    expect(report.inputs[0].dynamic_dims).toEqual([])
    expect(report.latency.torchscript.b1).toBeNull()
    expect(report.latency.eager.b1.p50_ms).toBeGreaterThan(0)
  })

  it('bad input: exit 2 with a hint, before anything is written', async () => {
    const unknown = await cli(['export', 'nosuchrun'], {cwd: project})
    expect(unknown.exitCode).toBe(2)
    const format = await cli(['export', runId, '--format', 'onnx,tflite'], {cwd: project})
    expect(format.exitCode).toBe(2)
    expect(format.stderr).toMatch(/unknown export format "tflite"/)
    expect(format.stderr).toMatch(/onnx, torchscript, export/)
    const tolerance = await cli(['export', runId, '--tolerance', '-1'], {cwd: project})
    expect(tolerance.exitCode).toBe(2)
    for (const output of [unknown, format, tolerance]) expect(output.stderr).not.toMatch(/\n\s+at /)
  })

  it('no checkpoint, or not the one asked for: exit 2 naming it', async () => {
    const run = await cli(
      [
        'run',
        'configs/image-classification.yaml',
        '--set',
        'train.epochs=1',
        '--set',
        'train.checkpoint.best=false',
        '--json',
      ],
      {cwd: project},
    )
    const {id, runDir: dir} = JSON.parse(run.stdout)
    const best = await cli(['export', id, '--checkpoint', 'best'], {cwd: project})
    expect(best.exitCode).toBe(2)
    expect(best.stderr).toMatch(/has no best checkpoint/)
    expect(best.stderr).toMatch(/--checkpoint last/)
    rmSync(join(dir, 'checkpoints'), {recursive: true})
    const none = await cli(['export', id], {cwd: project})
    expect(none.exitCode).toBe(2)
    expect(none.stderr).toMatch(/has no checkpoint to export/)
  })

  it('ONNX Runtime missing: exit 2 with a hint, the other formats not needed to say so', async () => {
    // A Python that cannot import onnxruntime: mlx's own, with a sitecustomize that hides it.
    const hidden = join(tempDir(), 'hide')
    mkdirSync(hidden)
    writeFileSync(join(hidden, 'sitecustomize.py'), "import sys\nsys.modules['onnxruntime'] = None\n")
    const python = join(hidden, 'python')
    writeFileSync(
      python,
      `#!/bin/sh\nPYTHONPATH="${hidden}:$PYTHONPATH" exec "${join(repoRoot, '.venv', 'bin', 'python')}" "$@"\n`,
    )
    chmodSync(python, 0o755)
    const missing = await cli(['export', runId, '--python', python], {cwd: project})
    expect(missing.exitCode, missing.stderr).toBe(2)
    expect(missing.stderr).toMatch(/ONNX export needs onnxruntime/)
    expect(missing.stderr).toMatch(/make setup/)
    const without = await cli(['export', runId, '--python', python, '--format', 'torchscript', '--no-bench'], {
      cwd: project,
    })
    expect(without.exitCode, without.stderr).toBe(0)
  })
})
