/**
 * The analysis: section on the image recipe, as a user switches it on: weight and gradient histograms and
 * per-layer gradient norms in TensorBoard (read back with TensorBoard's own reader), the embedding figure
 * and its projector data; with it off (the default), none of it.
 */
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {cli, repoRoot, tempDir} from '../helpers/cli.js'

const READ_TENSORBOARD = `
import json, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
board = EventAccumulator(sys.argv[1], size_guidance={"histograms": 0, "scalars": 0})
board.Reload()
tags = board.Tags()
print(json.dumps({"histograms": {tag: [e.step for e in board.Histograms(tag)] for tag in tags["histograms"]},
                  "norms": [tag for tag in tags["scalars"] if tag.startswith("grad_norm/")]}))
`

async function tensorboardTags(runDir: string): Promise<{histograms: Record<string, number[]>; norms: string[]}> {
  const read = await execa(join(repoRoot, '.venv', 'bin', 'python'), ['-c', READ_TENSORBOARD, runDir])
  return JSON.parse(String(read.stdout))
}

describe('training diagnostics (analysis:)', () => {
  it('the image recipe with histograms and embeddings on: both in TensorBoard and as files; off: neither', async () => {
    const project = join(tempDir(), 'project')
    await cli(['init', project, '--template', 'image-classification'], {cwd: tempDir()})
    const on = await cli(
      [
        'run',
        'configs/image-classification.yaml',
        'train.epochs=2',
        'analysis.histograms_every=10',
        'analysis.embeddings=true',
        '--json',
      ],
      {cwd: project},
    )
    expect(on.exitCode, on.stderr).toBe(0)
    const {runDir} = JSON.parse(on.stdout)
    // 46 optimiser steps (two epochs of 23): every 10th holds a histogram of each weight and gradient, and each layer's norm.
    const board = await tensorboardTags(runDir)
    const weightTags = Object.keys(board.histograms).filter((tag) => tag.startsWith('weights/'))
    const gradientTags = Object.keys(board.histograms).filter((tag) => tag.startsWith('gradients/'))
    expect(weightTags.length).toBeGreaterThan(4)
    expect(gradientTags.map((tag) => tag.replace('gradients/', ''))).toEqual(
      weightTags.map((tag) => tag.replace('weights/', '')),
    )
    for (const tag of [...weightTags, ...gradientTags]) expect(board.histograms[tag], tag).toEqual([10, 20, 30, 40])
    expect(board.norms).toHaveLength(gradientTags.length)

    expect(readFileSync(join(runDir, 'embedding.png')).subarray(1, 4).toString()).toBe('PNG')
    expect(readFileSync(join(runDir, 'projector_config.pbtxt'), 'utf8')).toMatch(
      /tensor_path: "embedding\/tensors\.tsv"/,
    )
    expect(
      readFileSync(join(runDir, 'embedding', 'metadata.tsv'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(360)
    const shown = JSON.parse((await cli(['show', JSON.parse(on.stdout).id, '--json'], {cwd: project})).stdout)
    expect(shown.artifacts.map((a: {path: string}) => a.path)).toContain('embedding.png')

    const off = await cli(['run', 'configs/image-classification.yaml', 'train.epochs=1', '--json'], {cwd: project})
    const offDir = JSON.parse(off.stdout).runDir
    expect(Object.keys((await tensorboardTags(offDir)).histograms)).toEqual([])
    expect(existsSync(join(offDir, 'embedding.png'))).toBe(false)
  })
})
