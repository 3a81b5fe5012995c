/**
 * Every recipe as a new user meets it: `mlx init --template X` in an empty folder, then
 * `mlx run configs/X.yaml`, one short epoch, offline, with real PyTorch.
 */
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {delimiter, join} from 'node:path'
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

function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((folder) => existsSync(join(folder, program)))
}

/** Where one epoch of a default config is long for a test on two cores, a shorter one of the same kind. */
const SHORTER: Partial<Record<(typeof TASKS)[number], string[]>> = {
  'speech-recognition': ['data.utterances=240'],
  'rl-dqn': ['data.steps_per_epoch=2000', 'data.eval_episodes=5'],
  'recsys-dlrm': ['data.rows=20000', 'data.val_rows=5000'],
}

describe('every recipe, from mlx init to a finished run, exported', () => {
  // The script template (your own script) has no epochs of mlx's: test/e2e/script.test.ts runs it.
  it.for(TASKS.filter((task) => task !== 'script'))(
    '%s: init, then one short epoch of its default config, then mlx export of its checkpoint',
    async (task, context) => {
      // .ci/run installs Debian's fortunes package; elsewhere its absence skips this one case, saying so.
      if (task === 'text-classification' && !existsSync('/usr/share/games/fortunes/computers'))
        context.skip("needs Debian's fortunes package (apt-get install fortunes)")
      if (task === 'speech-recognition' && !onPath('espeak-ng'))
        context.skip("needs Debian's espeak-ng (apt-get install espeak-ng)")
      const project = join(tempDir(), 'project')
      const init = await cli(['init', project, '--template', task], {cwd: tempDir()})
      expect(init.exitCode, init.stderr).toBe(0)
      const run = await cli(
        [
          'run',
          `configs/${task}.yaml`,
          '--set',
          'train.epochs=1',
          ...(SHORTER[task] ?? []).flatMap((set) => ['--set', set]),
          '--json',
        ],
        {cwd: project},
      )
      expect(run.exitCode, run.stderr).toBe(0)
      const record = JSON.parse(run.stdout)
      expect(record).toMatchObject({task, status: 'completed'})
      expect(record.metrics[record.primary.key].count).toBe(1)
      for (const key of RECIPES[task].keyMetrics.filter((key) => key in record.metrics))
        expect(Number.isFinite(record.metrics[key].last), key).toBe(true)
      expect(existsSync(join(record.runDir, 'checkpoints', 'last.pt'))).toBe(true)
      // analysis.worst_samples (on by default): misclassified texts, the utterances with the highest CER.
      if (task === 'text-classification' || task === 'speech-recognition')
        expect(readFileSync(join(record.runDir, 'worst_samples.tsv'), 'utf8')).toMatch(
          task === 'text-classification' ? /^true\tpredicted\ttext\n/ : /^cer\treference\thypothesis\n[01]\.\d{3}\t/,
        )

      // Every format of every recipe holds parity on validation examples, and ONNX Runtime runs the
      // graph on a batch of other rows and another size (test/e2e/export.test.ts: latency, show, compare).
      const exported = await cli(['export', record.id, '--batch-size', '6', '--no-bench', '--json'], {cwd: project})
      expect(exported.exitCode, exported.stdout + exported.stderr).toBe(0)
      const {report} = JSON.parse(exported.stdout)
      expect(report.unseen_batch_size).not.toBe(report.batch_size)
      for (const format of ['onnx', 'torchscript', 'export']) {
        const entry = report.formats[format]
        expect(entry.ok, `${format}: ${JSON.stringify(entry)}`).toBe(true)
        expect(entry.parity.unseen.ok).toBe(true)
        expect(entry.max_abs).toBeLessThan(1e-3)
        expect(existsSync(join(record.runDir, 'export', entry.file))).toBe(true)
      }
    },
  )
})

describe('image-classification on a folder of PNG files', () => {
  it('trains end to end: the class folders become the labels', async () => {
    const project = join(tempDir(), 'project')
    await cli(['init', project, '--template', 'image-classification'], {cwd: tempDir()})
    await writeShapes(join(project, 'shapes'), 10)
    const run = await cli(
      [
        'run',
        'configs/image-classification.yaml',
        '--set',
        'data={source: imagefolder, path: shapes, image_size: 16, batch_size: 8}',
        '--set',
        'train.epochs=3',
        '--json',
      ],
      {cwd: project},
    )
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
    const run = await cli(
      ['run', 'configs/image-classification.yaml', '--set', 'data={source: imagefolder, path: shapes, image_size: 16}'],
      {cwd: project},
    )
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/error: shapes\/square\/broken\.png: cannot decode the image/)
  })
})

describe('bad data in a recipe', () => {
  it('a CSV without the target column: exit 2, the file, the line and a hint, no traceback; the run is kept as failed', async () => {
    const project = join(tempDir(), 'project')
    await cli(['init', project, '--template', 'tabular'], {cwd: tempDir()})
    writeFileSync(join(project, 'plants.csv'), 'height,soil,kind\n1,clay,fern\n2,sand,cactus\n')
    const run = await cli(
      [
        'run',
        'configs/tabular.yaml',
        '--set',
        'data={source: csv, path: plants.csv, kind: classification, target: knd}',
        '--json',
      ],
      {cwd: project},
    )
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain(
      `stopped on bad input data\nerror: plants.csv:1: no column 'knd' in the header\nhint: 'knd': did you mean 'kind'?`,
    )
    expect(run.stderr).not.toMatch(/Traceback|at .*\.js:\d+/)
    expect(JSON.parse(run.stdout)).toMatchObject({status: 'failed', exitCode: 2})
  })

  it('a Criteo line with the wrong number of fields: exit 2, the file and the line', async () => {
    const project = join(tempDir(), 'project')
    await cli(['init', project, '--template', 'recsys-dlrm'], {cwd: tempDir()})
    const good = [
      '1',
      ...Array.from({length: 13}, (_, i) => String(i)),
      ...Array.from({length: 26}, (_, i) => (i + 10).toString(16).padStart(8, '0')),
    ].join('\t')
    writeFileSync(join(project, 'day_0.txt'), `${good}\n${good}\n0\t1\t2\n${good}\n`)
    const run = await cli(
      ['run', 'configs/recsys-dlrm.yaml', '--set', 'data={source: criteo, path: day_0.txt, val_rows: 1}'],
      {cwd: project},
    )
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain('error: day_0.txt:3: 3 tab-separated fields, expected 40')
  })

  it('a transcript outside the alphabet: exit 2, the manifest and the line, and the policy that drops it', async () => {
    const project = join(tempDir(), 'project')
    await cli(['init', project, '--template', 'speech-recognition'], {cwd: tempDir()})
    const python = join(repoRoot, '.venv', 'bin', 'python')
    await execa(
      python,
      ['-c', 'import numpy, soundfile; soundfile.write("a.wav", numpy.zeros(8000, "float32"), 16000)'],
      {cwd: project},
    )
    writeFileSync(join(project, 'm.jsonl'), '{"audio": "a.wav", "text": "one"}\n{"audio": "a.wav", "text": "two 2"}\n')
    const run = await cli(
      ['run', 'configs/speech-recognition.yaml', '--set', 'data={source: manifest, path: m.jsonl}'],
      {cwd: project},
    )
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain("error: m.jsonl:2: the transcript 'two 2' has '2', outside data.alphabet")
    expect(run.stderr).toContain('hint: add the characters to data.alphabet, or set data.unknown_characters: drop')
  })
})
