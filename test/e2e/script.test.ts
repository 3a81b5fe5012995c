/**
 * `task: script`: a user's own training script, unchanged, through `mlx run`, with metrics
 * from its printed lines (patterns, or key=value pairs) or from its own mlx_runtime calls.
 */
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {cli, repoRoot, tempDir, tempProject} from '../helpers/cli.js'
import {metricsInFile, metricsInStore} from '../helpers/store-check.js'

const EXAMPLE = join(repoRoot, 'templates', 'script', 'files', 'scripts', 'word_language_model.py')

describe('mlx run on your own script', () => {
  it('mlx init --template script: the word-level language model trainer, unchanged, trains; its loss is in mlx compare', async () => {
    const project = join(tempDir(), 'project')
    expect((await cli(['init', project, '--template', 'script'], {cwd: tempDir()})).exitCode).toBe(0)
    expect(readFileSync(join(project, 'scripts', 'word_language_model.py'), 'utf8')).toBe(readFileSync(EXAMPLE, 'utf8'))
    const run = await cli(
      ['run', 'configs/script.yaml', '--set', 'script.args=[--epochs, "2", --save, "{run_dir}/model.pt"]', '--json'],
      {cwd: project},
    )
    expect(run.exitCode, run.stderr).toBe(0)
    const record = JSON.parse(run.stdout)
    expect(record).toMatchObject({task: 'script', status: 'completed', primary: {key: 'val/loss', goal: 'min'}})
    expect(record.metrics['val/loss'].count).toBe(2)
    // 71 batches an epoch, a line every 10: 7 lines of train/loss each.
    expect(record.metrics['train/loss'].count).toBe(14)
    expect(record.metrics['val/loss'].last).toBeLessThan(record.metrics['train/loss'].max)
    expect(existsSync(join(record.runDir, 'model.pt'))).toBe(true)
    // The script's output is kept as it printed it.
    expect(readFileSync(join(record.runDir, 'stdout.log'), 'utf8')).toMatch(
      /^\| end of epoch {3}2 \| time: +[\d.]+s \| valid loss +[\d.]+ \| valid ppl +[\d.]+$/m,
    )
    expect(await metricsInStore(join(project, '.mlx'), record.id)).toEqual(metricsInFile(record.runDir))

    const table = await cli(['compare'], {cwd: project})
    expect(table.stdout).toMatch(/^run +name +val\/loss last +val\/loss best +train\/loss last .* status +duration$/m)
    expect(table.stdout).toMatch(/^\w+ +word-lm +[\d.]+ +[\d.]+\* .* completed +\S+$/m)
    const compared = JSON.parse((await cli(['compare', '--format', 'json'], {cwd: project})).stdout)
    expect(compared[0].metrics['val/loss'].last).toBeCloseTo(record.metrics['val/loss'].last)

    const tested = await cli(
      ['validate', 'configs/script.yaml', '--test-patterns', join(record.runDir, 'stdout.log')],
      {cwd: project},
    )
    expect(tested.exitCode, tested.stderr).toBe(0)
    expect(tested.stdout).toMatch(
      /stdout\.log:\d+: step 1 epoch 1: lr=20 perf\/ms_per_batch=[\d.]+ train\/loss=[\d.]+ train\/ppl=[\d.]+\n/,
    )
    expect(tested.stderr).toMatch(
      /16 of \d+ lines gave metrics: lr, perf\/ms_per_batch, train\/loss, train\/ppl, val\/loss, val\/ppl/,
    )

    // mlx export: the script registers its model (mlx_runtime.register_model) and the file it saves; started
    // again with $MLX_EXPORT, it exports that and ends there, training nothing (its metrics stay as they were).
    const exported = await cli(['export', record.id, '--format', 'onnx,torchscript', '--batch-size', '4', '--json'], {
      cwd: project,
    })
    expect(exported.exitCode, exported.stdout + exported.stderr).toBe(0)
    const {report} = JSON.parse(exported.stdout)
    expect(report.formats.onnx).toMatchObject({ok: true})
    expect(report.formats.torchscript).toMatchObject({ok: true})
    expect(report.inputs.map((input: {dynamic_dims: number[]}) => input.dynamic_dims)).toEqual([[1], [1], [1]])
    const after = JSON.parse((await cli(['show', record.id, '--json'], {cwd: project})).stdout)
    expect(after.metrics['val/loss'].count).toBe(2)
    expect(after.metrics['cost/latency_ms_b1/onnx'].last).toBeGreaterThan(0)
    expect(after.export.checkpoint).toBe('registered by the script')
  })

  it('key=value lines without patterns; a failing script ends failed with its own exit code', async () => {
    const project = tempProject({
      'train.py':
        'import sys\nfor step in range(1, 4):\n    print(f"step={step} loss={1 / step:.3f} acc: {step / 4}", flush=True)\nprint("done\\rnot a metric")\nsys.exit(int(sys.argv[1]))\n',
      'c.yaml': 'name: kv\ntask: script\nscript: {path: train.py, args: ["0"]}\n',
    })
    const run = await cli(['run', 'c.yaml', '--json'], {cwd: project})
    expect(run.exitCode, run.stderr).toBe(0)
    const record = JSON.parse(run.stdout)
    const stored = await metricsInStore(join(project, '.mlx'), record.id)
    expect(stored.map(({key, step, value}) => [key, step, value])).toEqual([
      ['loss', 1, 1],
      ['acc', 1, 0.25],
      ['loss', 2, 0.5],
      ['acc', 2, 0.5],
      ['loss', 3, 0.333],
      ['acc', 3, 0.75],
    ])
    expect(record.primary).toMatchObject({key: 'loss', last: 0.333})

    const failed = await cli(['run', 'c.yaml', '--set', 'script.args=["3"]', '--json'], {cwd: project})
    expect(failed.exitCode).toBe(1)
    expect(JSON.parse(failed.stdout)).toMatchObject({status: 'failed', exitCode: 3})
  })

  it('a script that logs through mlx_runtime is its own record: its printed lines add nothing', async () => {
    const project = tempProject({
      'train.py': [
        'from mlx_runtime import MetricsWriter',
        'metrics = MetricsWriter()',
        'for step in range(1, 4):',
        '    metrics.log({"train/loss": 1.0 / step}, step=step)',
        '    print(f"loss={99 + step}", flush=True)',
        'metrics.event("end", step=3)',
        '',
      ].join('\n'),
      'c.yaml': 'name: own\ntask: script\nscript: {path: train.py}\nmetrics: {primary: train/loss}\n',
    })
    const run = await cli(['run', 'c.yaml', '--json'], {cwd: project})
    expect(run.exitCode, run.stderr).toBe(0)
    const record = JSON.parse(run.stdout)
    const keys = (await metricsInStore(join(project, '.mlx'), record.id)).map((row) => row.key)
    expect(keys).toEqual(['train/loss', 'train/loss', 'train/loss'])
  })

  it('bad script configs: exit 2 with FILE:LINE:COL (a pattern that is no regular expression, a script that is not there)', async () => {
    const project = tempProject({
      'train.py': 'print("hi")\n',
      'bad-regex.yaml': "name: x\ntask: script\nscript:\n  path: train.py\n  patterns:\n    - regex: '(?P<loss>[0-9'\n",
      'no-group.yaml': "name: x\ntask: script\nscript:\n  path: train.py\n  patterns:\n    - regex: 'loss [0-9.]+'\n",
      'missing.yaml': 'name: x\ntask: script\nscript: {path: nowhere.py}\n',
    })
    const regex = await cli(['validate', 'bad-regex.yaml'], {cwd: project})
    expect(regex.exitCode).toBe(2)
    expect(regex.stderr).toMatch(/^bad-regex\.yaml:6:14: script\.patterns\.0\.regex: not a regular expression: /m)
    const group = await cli(['validate', 'no-group.yaml'], {cwd: project})
    expect(group.stderr).toMatch(/^no-group\.yaml:6:14: script\.patterns\.0\.regex: a pattern needs a named group/m)
    const missing = await cli(['run', 'missing.yaml'], {cwd: project})
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toMatch(
      /^missing\.yaml:3:16: script\.path: no such file: .*nowhere\.py \(script\.path is relative to the config file that names it\)$/m,
    )
    expect(existsSync(join(project, '.mlx', 'runs'))).toBe(false)
    writeFileSync(join(project, 'log.txt'), 'loss=1\n')
    const notScript = await cli(['validate', join(repoRoot, 'configs', 'minimal.yaml'), '--test-patterns', 'log.txt'], {
      cwd: project,
    })
    expect(notScript.exitCode).toBe(2)
    expect(notScript.stderr).toMatch(/--test-patterns reads a log with a script config's patterns/)
  })
})
