/**
 * What a run records of how it was made, and re-running it: the config file and its hash, the
 * overrides in order, the command line, the uncommitted changes as a patch that rebuilds the
 * tree; `mlx run --from` trains the same losses again. Real git, real training on the CPU.
 */
import {createHash} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {cli, repoRoot, tempDir, tempProject} from '../helpers/cli.js'
import {MINIMAL_CONFIG} from '../helpers/process.js'
import {metricsInStore} from '../helpers/store-check.js'

/** What TensorBoard's own readers find in each run of a logdir, as JSON. */
const READ_TENSORBOARD = `
import json, os, sys
from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata
mux = pem.EventMultiplexer()  # the runs as TensorBoard names them
mux.AddRunsFromDirectory(sys.argv[1])
seen = {}
for run in mux.Runs():
    acc = EventAccumulator(os.path.join(sys.argv[1], run))
    acc.Reload()
    tags = acc.Tags()
    start = metadata.parse_session_start_info_plugin_data(
        acc.SummaryMetadata("_hparams_/session_start_info").plugin_data.content)
    seen[run] = {
        "group": start.group_name,
        "hparams": {k: getattr(v, v.WhichOneof("kind")) for k, v in start.hparams.items()},
        "text": {t: acc.Tensors(t)[0].tensor_proto.string_val[0].decode() for t in ("run", "config")},
        "images": tags["images"],
        "scalars": tags["scalars"],
    }
print(json.dumps(seen))
`

const git = (cwd: string, ...args: string[]) =>
  execa('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], {cwd})

describe('a run records how it was made', () => {
  it('config path and hash, overrides in order, argv; a dirty tree saved as a patch that rebuilds it; --from reproduces the losses; TensorBoard reads names, params and figures', async () => {
    const config = MINIMAL_CONFIG.replace('train: {epochs: 2}', 'train: {epochs: 1, log_every: 1}')
    const project = tempProject({'c.yaml': config, 'model_notes.py': 'one\ntwo\n', 'data.bin': ''})
    writeFileSync(join(project, '.gitignore'), '.mlx/\n')
    writeFileSync(join(project, 'data.bin'), Buffer.from([0, 1, 2, 255]))
    await git(project, 'init', '-q')
    await git(project, 'add', '-A')
    await git(project, 'commit', '-qm', 'first')
    const commit = (await git(project, 'rev-parse', 'HEAD')).stdout.trim()
    // Unstaged, staged, a binary change, a deleted file and an untracked one.
    writeFileSync(join(project, 'model_notes.py'), 'one\ntwo changed\nthree\n')
    writeFileSync(join(project, 'staged.py'), 'staged = True\n')
    await git(project, 'add', 'staged.py')
    writeFileSync(join(project, 'data.bin'), Buffer.from([9, 8, 7, 0, 6]))
    await git(project, 'rm', '-q', 'mlx.yaml')
    writeFileSync(join(project, 'mlx.yaml'), '')
    writeFileSync(join(project, 'scratch.txt'), 'not tracked\n')

    // --set before the config, a Hydra-style override after it.
    const first = await cli(['run', '--set', 'optim.lr=0.002', 'c.yaml', 'data.batch_size=32', '--json'], {
      cwd: project,
    })
    expect(first.exitCode, first.stderr).toBe(0)
    const run = JSON.parse(first.stdout)
    const provenance = JSON.parse(readFileSync(join(run.runDir, 'provenance.json'), 'utf8'))
    expect(provenance).toMatchObject({
      configFile: 'c.yaml',
      configSha256: createHash('sha256').update(config).digest('hex'),
      overrides: ['optim.lr=0.002', 'data.batch_size=32'],
      argv: ['mlx', 'run', '--set', 'optim.lr=0.002', 'c.yaml', 'data.batch_size=32', '--json'],
      fromRun: null,
      overriddenParams: ['data.batch_size', 'optim.lr'],
      git: {commit, prefix: '', dirty: true, patch: 'git.patch', patchSkipped: null, untrackedMore: 0},
    })
    expect(provenance.nonDefaultParams).toEqual(expect.arrayContaining(['optim.lr', 'data.batch_size', 'train.epochs']))
    expect(provenance.nonDefaultParams).not.toContain('seed')
    expect(provenance.git.untracked).toContain('scratch.txt')
    expect(run.params).toMatchObject({'optim.lr': 0.002, 'data.batch_size': 32})

    // The patch applied to the recorded commit gives the tree the run was made from.
    const rebuilt = tempDir()
    await execa('git', ['clone', '-q', project, rebuilt])
    await git(rebuilt, 'checkout', '-q', provenance.git.commit)
    await git(rebuilt, 'apply', '--binary', join(run.runDir, 'git.patch'))
    for (const file of ['model_notes.py', 'staged.py', 'data.bin', 'c.yaml'])
      expect(readFileSync(join(rebuilt, file)), file).toEqual(readFileSync(join(project, file)))
    expect((await git(rebuilt, 'status', '--porcelain')).stdout).toMatch(/mlx\.yaml/) // deleted there, as in the index

    // show leads with it, and marks the params the overrides set.
    const shown = (await cli(['show', run.id], {cwd: project})).stdout.split('\n')
    expect(shown[2]).toBe('made by: mlx run --set optim.lr=0.002 c.yaml data.batch_size=32 --json')
    expect(shown[3]).toMatch(
      /^config: c\.yaml \(sha256 [0-9a-f]{12}\) · overrides, in order: optim\.lr=0\.002 data\.batch_size=32$/,
    )
    expect(shown[4]).toMatch(new RegExp(`^code: git ${commit.slice(0, 12)}, uncommitted changes saved in git\\.patch`))
    expect(shown).toContain('  * optim.lr = 0.002  (set)')
    expect(shown).toContain('    seed = 0')

    // Re-run: the same resolved config as a new run, the same losses to the last digit.
    const again = await cli(['run', '--from', run.id, '--json'], {cwd: project})
    expect(again.exitCode, again.stderr).toBe(0)
    const rerun = JSON.parse(again.stdout)
    expect(rerun.id).not.toBe(run.id)
    const losses = async (id: string) =>
      (await metricsInStore(join(project, '.mlx'), id))
        .filter((m) => m.key === 'train/loss')
        .map((m) => [m.step, m.value])
    expect(await losses(rerun.id)).toHaveLength(45)
    expect(await losses(rerun.id)).toEqual(await losses(run.id))
    expect(JSON.parse(readFileSync(join(rerun.runDir, 'provenance.json'), 'utf8'))).toMatchObject({
      configFile: `.mlx/runs/${run.id}/config.yaml`,
      fromRun: {id: run.id, name: 'digits-cnn'},
      overrides: [],
    })
    // --from with an override changes only that value.
    const changed = await cli(['run', '--from', run.id, 'optim.lr=0.01', '--dry-run', '--json'], {cwd: project})
    expect(changed.exitCode, changed.stderr).toBe(0)
    expect(JSON.parse(changed.stdout).config).toMatchObject({optim: {lr: 0.01}, data: {batch_size: 32}})

    // TensorBoard, read by its own reader: runs by name, their params (HParams), name and config (Text), figures (Images).
    await cli(['rename', rerun.id, 'digits again'], {cwd: project})
    const board = await cli(['tensorboard', '--no-launch', '--json'], {cwd: project})
    expect(board.exitCode, board.stderr).toBe(0)
    const links = JSON.parse(board.stdout)
    expect(links.logdir).toBe(join(project, '.mlx', 'tensorboard'))
    expect(links.runs.map((r: {link: string}) => r.link.split('/').at(-1))).toEqual([
      `digits_again-${rerun.id}`,
      `digits-cnn-${run.id}`,
    ])
    expect(links.command.slice(1, 5)).toEqual(['-m', 'tensorboard.main', '--logdir', links.logdir])
    const read = await execa(join(repoRoot, '.venv/bin/python'), ['-c', READ_TENSORBOARD, links.logdir])
    const seen = JSON.parse(read.stdout)
    const original = seen[`digits-cnn-${run.id}`]
    expect(original.text.run).toBe(`digits-cnn (${run.id})`)
    expect(original.text.config).toContain('"lr": 0.002')
    expect(original.group).toBe(`digits-cnn-${run.id}`)
    expect(original.hparams).toMatchObject({'optim.lr': 0.002, 'data.batch_size': 32, 'model.arch': 'cnn'})
    expect(original.images).toEqual(expect.arrayContaining(['figures/confusion_matrix']))
    expect(original.scalars).toEqual(expect.arrayContaining(['train/loss', 'val/acc']))
    expect(seen[`digits_again-${rerun.id}`].group).toBe(`digits-cnn-${rerun.id}`) // named when it was made
  })
})

describe('mlx run arguments', () => {
  it('refuses what is neither a config nor KEY=VALUE, a config with --from, and nothing at all (exit 2)', async () => {
    const project = tempProject({'c.yaml': MINIMAL_CONFIG})
    const cases: Array<[string[], RegExp]> = [
      [
        ['run', 'c.yaml', 'other.yaml'],
        /unexpected argument "other\.yaml": after the config, mlx run takes KEY\.PATH=VALUE overrides/,
      ],
      [['run', '--from', 'x', 'c.yaml'], /takes no config file \(got "c\.yaml"\)/],
      [['run'], /mlx run needs an experiment config \(or --from RUN\)/],
      [['run', 'c.yaml', 'optim.nope=1', '--dry-run'], /optim/],
    ]
    for (const [args, message] of cases) {
      const result = await cli(args, {cwd: project})
      expect(result.exitCode, args.join(' ')).toBe(2)
      expect(result.stderr, args.join(' ')).toMatch(message)
      expect(result.stderr).not.toMatch(/\n\s+at /)
    }
  })
})
