/**
 * Every recipe as a new user meets it: `mlx init --template X` in an empty folder, then
 * `mlx run configs/X.yaml`, one short epoch, offline, with real PyTorch.
 */
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {TASKS} from '../../src/core/config/schema.js'
import {RECIPES} from '../../src/core/recipes/registry.js'
import {execa} from 'execa'
import {cli, repoRoot, tempDir} from '../helpers/cli.js'

/** A folder of PNG files, one subfolder per class (drawn with Pillow from mlx's own environment). */
async function writeShapes(folder: string, perClass: number): Promise<void> {
  const draw = `
import sys
from pathlib import Path
from PIL import Image, ImageDraw
root, count = Path(sys.argv[1]), int(sys.argv[2])
for label in ("circle", "square"):
    (root / label).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        image = Image.new("RGB", (20 + i % 4, 20), "black")
        shape = ImageDraw.Draw(image).ellipse if label == "circle" else ImageDraw.Draw(image).rectangle
        shape((3, 3, 16, 16 - i % 2), fill=(255, 220, 90))
        image.save(root / label / f"{label}{i}.png")
`
  await execa(join(repoRoot, '.venv', 'bin', 'python'), ['-c', draw, folder, String(perClass)])
}

describe('every recipe, from mlx init to a finished run', () => {
  it.each(TASKS)('%s: init, then one short epoch of its default config', async (task, context) => {
    // .ci/run installs Debian's fortunes package; elsewhere its absence skips this one case, saying so.
    if (task === 'text-classification' && !existsSync('/usr/share/games/fortunes/computers')) context.skip("needs Debian's fortunes package (apt-get install fortunes)")
    const project = join(tempDir(), 'project')
    const init = await cli(['init', project, '--template', task], {cwd: tempDir()})
    expect(init.exitCode, init.stderr).toBe(0)
    const run = await cli(['run', `configs/${task}.yaml`, '--set', 'train.epochs=1', '--json'], {cwd: project})
    expect(run.exitCode, run.stderr).toBe(0)
    const record = JSON.parse(run.stdout)
    expect(record).toMatchObject({task, status: 'completed'})
    expect(record.metrics[record.primary.key].count).toBe(1)
    for (const key of RECIPES[task].keyMetrics.filter((key) => key in record.metrics)) expect(Number.isFinite(record.metrics[key].last), key).toBe(true)
    expect(existsSync(join(record.runDir, 'checkpoints', 'last.pt'))).toBe(true)
  })
})

describe('image-classification on a folder of PNG files', () => {
  it('trains end to end: the class folders become the labels', async () => {
    const project = join(tempDir(), 'project')
    await cli(['init', project, '--template', 'image-classification'], {cwd: tempDir()})
    await writeShapes(join(project, 'shapes'), 10)
    const run = await cli(['run', 'configs/image-classification.yaml', '--set', 'data={source: imagefolder, path: shapes, image_size: 16, batch_size: 8}', '--set', 'train.epochs=3', '--json'], {cwd: project})
    expect(run.exitCode, run.stderr).toBe(0)
    const record = JSON.parse(run.stdout)
    expect(record.metrics['val/acc'].count).toBe(3)
    const show = JSON.parse((await cli(['show', record.id, '--json'], {cwd: project})).stdout)
    expect(show.confusionMatrix.labels).toEqual(['circle', 'square'])
  })

  it('an image that cannot be decoded: exit 2, the file named', async () => {
    const project = join(tempDir(), 'project')
    await cli(['init', project, '--template', 'image-classification'], {cwd: tempDir()})
    await writeShapes(join(project, 'shapes'), 3)
    writeFileSync(join(project, 'shapes', 'square', 'broken.png'), 'not an image')
    const run = await cli(['run', 'configs/image-classification.yaml', '--set', 'data={source: imagefolder, path: shapes, image_size: 16}'], {cwd: project})
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/error: shapes\/square\/broken\.png: cannot decode the image/)
  })
})

describe('bad data in a recipe', () => {
  it('a CSV without the target column: exit 2, the file, the line and a hint, no traceback; the run is kept as failed', async () => {
    const project = join(tempDir(), 'project')
    await cli(['init', project, '--template', 'tabular'], {cwd: tempDir()})
    writeFileSync(join(project, 'plants.csv'), 'height,soil,kind\n1,clay,fern\n2,sand,cactus\n')
    const run = await cli(['run', 'configs/tabular.yaml', '--set', 'data={source: csv, path: plants.csv, kind: classification, target: knd}', '--json'], {cwd: project})
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain(`stopped on bad input data\nerror: plants.csv:1: no column 'knd' in the header\nhint: 'knd': did you mean 'kind'?`)
    expect(run.stderr).not.toMatch(/Traceback|at .*\.js:\d+/)
    expect(JSON.parse(run.stdout)).toMatchObject({status: 'failed', exitCode: 2})
  })
})
