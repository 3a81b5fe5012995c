/**
 * `mlx card` on finished runs, as a user meets it: its metrics are the run's (mlx show), each with a
 * 95% bootstrap interval from the saved validation predictions that holds the value; what only people
 * know comes from the config's card: section, and what nobody wrote says so.
 */
import {existsSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {cli, repoRoot, tempDir} from '../helpers/cli.js'

async function trained(
  template: string,
  config: string,
  sets: string[],
): Promise<{project: string; id: string; runDir: string}> {
  const project = join(tempDir(), 'project')
  await cli(['init', project, '--template', template], {cwd: tempDir()})
  const run = await cli(['run', config, ...sets.flatMap((set) => ['--set', set]), '--json'], {cwd: project})
  expect(run.exitCode, run.stderr).toBe(0)
  const {id, runDir} = JSON.parse(run.stdout)
  return {project, id, runDir}
}

describe('mlx card', () => {
  it('a digits run: metrics as mlx show reports them, intervals around them, per class, figures, how to reproduce', async () => {
    const {project, id, runDir} = await trained('image-classification', 'configs/image-classification.yaml', [
      'train.epochs=2',
      'card.intended_use="Reading handwritten digits in 8x8 scans, for teaching"',
      'card.limitations="Trained on 1,437 digits from 43 writers"',
    ])
    const card = await cli(['card', id, '--json'], {cwd: project})
    expect(card.exitCode, card.stderr).toBe(0)
    const result = JSON.parse(card.stdout)
    expect(result.out).toBe(join(runDir, 'card.md'))
    const shown = JSON.parse((await cli(['show', id, '--json'], {cwd: project})).stdout)
    const byKey = Object.fromEntries(result.metrics.map((m: {key: string}) => [m.key, m]))
    for (const key of ['val/acc', 'val/f1']) {
      const metric = byKey[key]
      expect(metric.logged).toBe(shown.metrics[key].last)
      expect(metric.recomputed).toBeCloseTo(shown.metrics[key].last, 12)
      expect(metric.low).toBeLessThanOrEqual(metric.logged)
      expect(metric.high).toBeGreaterThanOrEqual(metric.logged)
      expect(metric.high - metric.low).toBeGreaterThan(0)
      expect(metric.high - metric.low).toBeLessThan(0.2)
    }
    expect(byKey['val/loss'].logged).toBe(shown.metrics['val/loss'].last)
    expect(result.predictions.per_class).toHaveLength(10)
    expect(result.predictions.per_class.reduce((sum: number, c: {support: number}) => sum + c.support, 0)).toBe(
      result.predictions.examples,
    )

    const text = readFileSync(result.out, 'utf8')
    expect(text).toMatch(/## Intended use\n\nReading handwritten digits in 8x8 scans, for teaching\n/)
    expect(text).toMatch(/## Limitations\n\nTrained on 1,437 digits from 43 writers\n/)
    expect(text).toMatch(/## Ethical considerations\n\nNot stated/)
    expect(result.notStated).toContain('ethical_considerations')
    expect(result.notStated).not.toContain('intended_use')
    expect(text).toMatch(new RegExp(`\\| val/acc \\| ${shown.metrics['val/acc'].last.toFixed(4).replace(/0+$/, '')}`))
    expect(text).toMatch(/Parameters: \d+; size [\d.]+ KB/)
    expect(text).toMatch(/val images: 360/)
    expect(text).toMatch(/!\[confusion_matrix\.png\]\(confusion_matrix\.png\)/)
    expect(text).toContain(`mlx run --from ${id}`)
    expect(text).toMatch(/```yaml\n# The resolved config of run/)

    const html = await cli(['card', id, '--out', join(project, 'card.html')], {cwd: project})
    expect(html.exitCode, html.stderr).toBe(0)
    const page = readFileSync(join(project, 'card.html'), 'utf8')
    expect(page).toMatch(/^<!doctype html>/)
    expect(page).toMatch(/<td>val\/acc<\/td>/)
    expect(page).toMatch(/src="data:image\/png;base64,iVBOR/)

    // No checkpoint: nothing to describe.
    rmSync(join(runDir, 'checkpoints'), {recursive: true})
    const none = await cli(['card', id], {cwd: project})
    expect(none.exitCode).toBe(2)
    expect(none.stderr).toMatch(/has no checkpoint/)
    expect(none.stderr).not.toMatch(/\n\s+at /)
    const unknown = await cli(['card', 'nosuchrun'], {cwd: project})
    expect(unknown.exitCode).toBe(2)
  })

  it('a regression (tabular, diabetes): RMSE, MAE and R2 with intervals; an export shows up as the serving section', async () => {
    const {project, id} = await trained('tabular', join(repoRoot, 'configs', 'tabular-diabetes.yaml'), [
      'train.epochs=3',
    ])
    await cli(['export', id, '--format', 'onnx', '--no-bench'], {cwd: project})
    const card = await cli(['card', id, '--json'], {cwd: project})
    expect(card.exitCode, card.stderr).toBe(0)
    const result = JSON.parse(card.stdout)
    expect(result.predictions.kind).toBe('regression')
    for (const key of ['val/rmse', 'val/mae', 'val/r2']) {
      const metric = result.metrics.find((m: {key: string}) => m.key === key)
      expect(metric.recomputed).toBeCloseTo(metric.logged, 9)
      expect(metric.low).toBeLessThanOrEqual(metric.logged)
      expect(metric.high).toBeGreaterThanOrEqual(metric.logged)
    }
    const text = readFileSync(result.out, 'utf8')
    expect(text).toMatch(/\| onnx \| ok \| /)
    expect(existsSync(result.out)).toBe(true)
  })
})
