/** tag, rename, rm and diff on a real store seeded with runs (no training needed for these). */
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {diffRuns} from '../../src/core/report/diff.js'
import {openStore} from '../../src/core/store/open.js'
import {execa, execaSync} from 'execa'
import {stripVTControlCharacters} from 'node:util'
import {displayWidth} from '../../src/core/report/format.js'
import {binRun, cli, cliEnv, repoRoot, tempProject} from '../helpers/cli.js'

async function seed(): Promise<string> {
  const project = tempProject()
  const store = await openStore(join(project, '.mlx'))
  const runs = [
    {id: 'aaaa000001', name: 'small', lr: 0.001, acc: [0.5, 0.8], tags: ['baseline']},
    {id: 'bbbb000002', name: 'large', lr: 0.01, acc: [0.6, 0.9, 0.85], tags: []},
  ]
  for (const [index, run] of runs.entries()) {
    const runDir = store.runDir(run.id)
    mkdirSync(runDir, {recursive: true})
    writeFileSync(join(runDir, 'run.json'), JSON.stringify({id: run.id, name: run.name}))
    store.createRun(
      {
        id: run.id,
        name: run.name,
        task: 'image-classification',
        host: 'h',
        config: {name: run.name, tags: run.tags, optim: {name: 'adam', lr: run.lr}},
        primaryMetric: 'val/acc',
        primaryGoal: 'max',
      },
      1000 + index,
    )
    let offset = 0
    const lines = run.acc.map((acc, step) => {
      const text = JSON.stringify({
        v: 1,
        t: 1000 + step,
        kind: 'metrics',
        step: step + 1,
        values: {'val/acc': acc, 'val/loss': 1 - acc, 'perf/step_time': 0.1 + acc},
      })
      offset += Buffer.byteLength(text) + 1
      return {text, endOffset: offset}
    })
    store.ingest(run.id, 0, lines)
    store.finishRun(run.id, {status: 'completed', endedAt: 1010 + index, exitCode: 0, signal: null, error: null})
  }
  store.close()
  return project
}

/**
 * `mlx COMMAND` in a terminal of `columns` x `rows` (util-linux's `script` gives it one; `stty`
 * sets its size): its output lines, the last `exit N`.
 */
async function inTerminal(project: string, columns: number, rows: number, command: string): Promise<string[]> {
  const line = `stty cols ${columns} rows ${rows}; node ${JSON.stringify(binRun)} ${command}; echo "exit $?"`
  const result = await execa('script', ['-qec', line, '/dev/null'], {
    cwd: project,
    env: cliEnv(),
    input: '',
    timeout: 60_000,
    reject: false,
  })
  return stripVTControlCharacters(String(result.stdout)).replaceAll('\r', '').trimEnd().split('\n')
}

describe('printed tables', () => {
  it('compare and runs print their tables without loading ink or React', async () => {
    const project = await seed()
    for (const args of [['compare'], ['runs'], ['compare', '--where', 'optim.lr < 0.005']]) {
      const trace = join(project, `imports-${args.length}-${args[0]}.txt`)
      const result = await execa(
        'node',
        ['--import', join(repoRoot, 'test/fixtures/trace-imports.mjs'), binRun, ...args],
        {cwd: project, env: cliEnv({MLX_TRACE_IMPORTS: trace}), reject: false},
      )
      expect(result.exitCode, args.join(' ')).toBe(0)
      expect(String(result.stdout)).toMatch(args[0] === 'runs' ? /^run\s+name\s+status/ : /^run\s+name\s+val\/acc last/)
      expect(String(result.stdout)).toContain(args[0] === 'runs' || args.length > 1 ? 'small' : 'large')
      const loaded = readFileSync(trace, 'utf8').split('\n')
      expect(
        loaded.filter((url) => /\/node_modules\/(ink|react|react-reconciler)\/|\/dist\/ui\/render\.js$/.test(url)),
        args.join(' '),
      ).toEqual([])
    }
  })
})

describe('a terminal that reports 0 columns and rows', () => {
  // util-linux's `script` gives the command a terminal; `stty` then sets its size to 0x0, as some CI
  // runners and serial consoles report it. Both were a V8 fatal error (exit 133) before.
  const hasScript = execaSync('sh', ['-c', 'command -v script'], {reject: false}).exitCode === 0
  it.skipIf(!hasScript)('compare and runs print at 80 columns and exit 0 (needs `script`)', async () => {
    const project = await seed()
    for (const command of ['compare', 'runs']) {
      const lines = await inTerminal(project, 0, 0, command)
      expect(lines.at(-1), command).toBe('exit 0')
      expect(
        lines.some((text) => /^run\s+name\s+(status|val\/acc)/.test(text)),
        command,
      ).toBe(true)
      for (const text of lines) expect(displayWidth(text), text).toBeLessThanOrEqual(80)
    }
  })
})

describe('the comparison table in a terminal', () => {
  const hasScript = execaSync('sh', ['-c', 'command -v script'], {reject: false}).exitCode === 0
  it.skipIf(!hasScript)(
    'at 160, 80 and 60 columns: ids and names whole, the best marked, the winner said (needs `script`)',
    async () => {
      const project = tempProject()
      const store = await openStore(join(project, '.mlx'))
      const lrs = [0.01, 0.001, 0.0001, 0.00001]
      for (const [index, lr] of lrs.entries()) {
        const id = `${'abcd'[index]!.repeat(4)}00000${index}`
        const name = `lr-${lr}`
        mkdirSync(store.runDir(id), {recursive: true})
        writeFileSync(join(store.runDir(id), 'run.json'), JSON.stringify({id, name}))
        const config = {
          name,
          optim: {name: 'adam', lr, weight_decay: index / 100},
          model: {dropout: index / 10},
          data: {batch_size: 32 * (index + 1)},
        }
        store.createRun(
          {id, name, task: 'image-classification', host: 'h', config, primaryMetric: 'val/acc', primaryGoal: 'max'},
          1000 + index,
        )
        let offset = 0
        const lines = [0.5, index === 2 ? 0.93 : 0.85].map((acc, step) => {
          const text = JSON.stringify({
            v: 1,
            t: 1000 + step,
            kind: 'metrics',
            step: step + 1,
            values: {'val/acc': acc, 'val/loss': 1 - acc, 'train/loss': 1.2 - acc},
          })
          offset += Buffer.byteLength(text) + 1
          return {text, endOffset: offset}
        })
        store.ingest(id, 0, lines)
        store.finishRun(id, {status: 'completed', endedAt: 1010 + index * 7, exitCode: 0, signal: null, error: null})
      }
      store.close()
      for (const columns of [160, 80, 60]) {
        const lines = await inTerminal(project, columns, 40, 'compare')
        expect(lines.at(-1), `${columns}`).toBe('exit 0')
        for (const text of lines) expect(displayWidth(text), text).toBeLessThanOrEqual(columns)
        expect(lines[0], `${columns}`).toMatch(/^run +name +(val\/acc last +)?val\/acc best +batch_size/)
        // Newest first, as `mlx runs` lists them.
        expect(lines.slice(1, 5).map((text) => text.split(/ +/).slice(0, 2).join(' '))).toEqual([
          'dddd lr-0.00001',
          'cccc lr-0.0001',
          'bbbb lr-0.001',
          'aaaa lr-0.01',
        ])
        expect(lines[2], `${columns}`).toMatch(/0\.93\*/)
        expect(lines.join(' ')).toContain('best val/acc: lr-0.0001 (cccc), 0.93 at step 2')
      }
    },
  )
})

describe('mlx gc', () => {
  it('keeps best and last checkpoints, removes old failed runs; --dry-run removes nothing; asks for --yes; runs shows disk use', async () => {
    const project = await seed()
    const store = await openStore(join(project, '.mlx'))
    const failed = {id: 'cccc000003', name: 'broken', task: 'image-classification', host: 'h', config: {name: 'broken'}}
    store.createRun({...failed, primaryMetric: 'val/acc', primaryGoal: 'max'}, 1002)
    writeFileSync(join(store.runDir('cccc000003'), 'run.json'), '{}')
    store.finishRun('cccc000003', {status: 'failed', endedAt: 1003, exitCode: 1, signal: null, error: 'boom'})
    store.close()
    const checkpoints = join(project, '.mlx/runs/aaaa000001/checkpoints')
    mkdirSync(checkpoints, {recursive: true})
    for (const [file, size] of [
      ['best.pt', 100],
      ['last.pt', 100],
      ['epoch1.pt', 1000],
      ['epoch2.pt', 1000],
      ['last.pt.partial', 24],
      ['notes.txt', 5],
    ] as const)
      writeFileSync(join(checkpoints, file), Buffer.alloc(size))

    const planned = await cli(['gc', '--dry-run', '--json'], {cwd: project})
    expect(planned.exitCode, planned.stderr).toBe(0)
    const plan = JSON.parse(planned.stdout)
    expect(plan.runs.map((run: {id: string}) => run.id)).toEqual(['cccc000003'])
    expect(plan.checkpoints).toEqual([
      {id: 'aaaa000001', path: 'checkpoints/epoch1.pt', bytes: 1000},
      {id: 'aaaa000001', path: 'checkpoints/epoch2.pt', bytes: 1000},
      {id: 'aaaa000001', path: 'checkpoints/last.pt.partial', bytes: 24},
    ])
    expect(plan.dryRun).toBe(true)
    expect(planned.stderr).toMatch(/would remove 1 run and 3 checkpoints, [\d.]+ KB$/m)
    expect(existsSync(join(checkpoints, 'epoch1.pt'))).toBe(true)
    const sizes = JSON.parse((await cli(['runs', '--json'], {cwd: project})).stdout)
    expect(sizes.find((run: {id: string}) => run.id === 'aaaa000001').diskBytes).toBeGreaterThan(2229)
    expect((await cli(['runs'], {cwd: project})).stdout).toMatch(
      /^run +name +status +started \(UTC\) +duration +disk +primary/,
    )

    const unconfirmed = await cli(['gc'], {cwd: project})
    expect(unconfirmed.exitCode).toBe(2)
    expect(unconfirmed.stderr).toContain('needs confirmation')
    const bad = await cli(['gc', '--older-than', 'soon'], {cwd: project})
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toMatch(/--older-than "soon": expected a duration/)
    // A cut-off before the failed run ended keeps it.
    const keepOld = JSON.parse(
      (await cli(['gc', '--older-than', '1969-01-01', '--dry-run', '--json'], {cwd: project})).stdout,
    )
    expect(keepOld.runs).toEqual([])

    expect((await cli(['gc', '--yes'], {cwd: project})).exitCode).toBe(0)
    expect(readdirSync(checkpoints).sort()).toEqual(['best.pt', 'last.pt', 'notes.txt'])
    expect(existsSync(join(project, '.mlx/runs/cccc000003'))).toBe(false)
    const left = JSON.parse((await cli(['runs', '--json'], {cwd: project})).stdout)
    expect(left.map((run: {id: string}) => run.id)).toEqual(['bbbb000002', 'aaaa000001'])
    expect((await cli(['gc', '--yes'], {cwd: project})).stderr.trim()).toBe('nothing to remove')
  })
})

describe('a name several runs share', () => {
  it('show and diff take the newest and say so on stderr; rm and stop refuse it and list the runs; diff X X is refused', async () => {
    const project = await seed()
    const store = await openStore(join(project, '.mlx'))
    const config = {name: 'small', tags: [], optim: {name: 'adam', lr: 0.002}}
    const newRun = {id: 'cccc000003', name: 'small', task: 'image-classification', host: 'h', config}
    store.createRun({...newRun, primaryMetric: 'val/acc', primaryGoal: 'max'}, 1002)
    writeFileSync(join(store.runDir('cccc000003'), 'run.json'), JSON.stringify({id: 'cccc000003', name: 'small'}))
    store.finishRun('cccc000003', {status: 'failed', endedAt: 1003, exitCode: 1, signal: null, error: 'boom'})
    store.close()

    const shown = await cli(['show', 'small', '--json'], {cwd: project})
    expect(shown.exitCode).toBe(0)
    expect(JSON.parse(shown.stdout).id).toBe('cccc000003')
    expect(shown.stderr).toBe('mlx: "small" names 2 runs; taking the newest, cccc000003')
    const diff = await cli(['diff', 'small', 'large', '--json'], {cwd: project})
    expect(diff.exitCode).toBe(0)
    expect(diff.stderr).toContain('taking the newest, cccc000003')

    for (const args of [
      ['rm', 'small', '--yes'],
      ['stop', 'small'],
    ]) {
      const refused = await cli(args, {cwd: project})
      expect(refused.exitCode, args.join(' ')).toBe(2)
      expect(refused.stderr).toContain(
        '"small" names 2 runs, newest first: cccc000003 (failed), aaaa000001 (completed)',
      )
      expect(refused.stderr).toMatch(/hint: name the run by its id/)
    }
    expect(existsSync(join(project, '.mlx/runs/aaaa000001'))).toBe(true)
    expect((await cli(['rm', 'cccc', '--yes'], {cwd: project})).exitCode).toBe(0)
    expect((await cli(['show', 'small', '--json'], {cwd: project})).stderr).toBe('')

    const same = await cli(['diff', 'small', 'aaaa'], {cwd: project})
    expect(same.exitCode).toBe(2)
    expect(same.stderr).toContain('"small" and "aaaa" are the same run, aaaa000001')
  })
})

describe('mlx tag, rename, rm, diff, logs', () => {
  it("prints a run's logs, one stream or both; -f returns once the run has ended", async () => {
    const project = await seed()
    writeFileSync(join(project, '.mlx/runs/aaaa000001/stdout.log'), 'epoch 1\nepoch 2\n')
    writeFileSync(join(project, '.mlx/runs/aaaa000001/stderr.log'), 'a warning\nno newline at the end')
    const both = await cli(['logs', 'small'], {cwd: project})
    expect(both.stdout).toBe('epoch 1\nepoch 2')
    expect(both.stderr).toBe('a warning\nno newline at the end')
    expect((await cli(['logs', 'small', '--stream', 'stdout'], {cwd: project})).stderr).toBe('')
    const followed = await cli(['logs', 'small', '-f'], {cwd: project})
    expect(followed.exitCode).toBe(0)
    expect(followed.stdout).toBe('epoch 1\nepoch 2')
  })

  it('tags and untags a run; runs --tag and compare --where tag = ... find it; run.json follows', async () => {
    const project = await seed()
    expect((await cli(['tag', 'bbbb', 'best', 'lr-sweep'], {cwd: project})).stderr.trim()).toBe(
      'bbbb000002: best, lr-sweep',
    )
    expect((await cli(['tag', 'bbbb', '--', '-lr-sweep'], {cwd: project})).stderr.trim()).toBe('bbbb000002: best')
    const tagged = JSON.parse((await cli(['runs', '--tag', 'best', '--json'], {cwd: project})).stdout)
    expect(tagged.map((r: {id: string}) => r.id)).toEqual(['bbbb000002'])
    const where = JSON.parse(
      (await cli(['compare', '--where', 'tag = baseline or tag = best', '--format', 'json'], {cwd: project})).stdout,
    )
    expect(where.map((r: {id: string}) => r.id)).toEqual(['bbbb000002', 'aaaa000001']) // newest first
    expect(JSON.parse(readFileSync(join(project, '.mlx/runs/bbbb000002/run.json'), 'utf8')).tags).toEqual(['best'])
  })

  it('removes tags with --remove, -r or -TAG (no unknown-flag error); tags show in runs and show, text and --json', async () => {
    const project = await seed()
    await cli(['tag', 'bbbb', 'good', 'keep', 'old'], {cwd: project})
    expect((await cli(['tag', 'bbbb', '-good'], {cwd: project})).stderr.trim()).toBe('bbbb000002: keep, old')
    expect((await cli(['tag', 'bbbb', 'new', '--remove', 'old'], {cwd: project})).stderr.trim()).toBe(
      'bbbb000002: keep, new',
    )
    expect((await cli(['tag', 'bbbb', '-r', 'keep'], {cwd: project})).stderr.trim()).toBe('bbbb000002: new')
    expect((await cli(['tag', 'bbbb'], {cwd: project})).stderr.trim()).toBe('bbbb000002: new')
    const empty = await cli(['tag', 'bbbb', ''], {cwd: project})
    expect(empty.exitCode).toBe(2)
    expect(empty.stderr).toContain('a tag cannot be empty')
    const help = (await cli(['tag', '--help'], {cwd: project})).stdout
    expect(help).toContain('--remove')
    expect(help).toContain('mlx tag 3fa9 best --remove baseline')
    expect(help).not.toContain('[default: ]')

    const runs = (await cli(['runs'], {cwd: project})).stdout.split('\n')
    expect(runs[0]).toMatch(/primary metric \(best\) +tags$/)
    expect(runs[1]).toMatch(/^bbbb000002 .* new$/)
    expect(JSON.parse((await cli(['runs', '--json'], {cwd: project})).stdout)[0]).toMatchObject({
      tags: ['new'],
      notes: [],
    })
    expect((await cli(['show', 'bbbb'], {cwd: project})).stdout).toContain('\ntags: new\n')
    expect(JSON.parse((await cli(['show', 'bbbb', '--json'], {cwd: project})).stdout).tags).toEqual(['new'])
  })

  it('notes a run after the fact: mlx note lists them, show and runs show them, --where note ~ finds them, a rebuilt index keeps them', async () => {
    const project = await seed()
    expect((await cli(['note', 'aaaa', 'overfits', 'after', 'epoch', '12'], {cwd: project})).stderr.trim()).toBe(
      'aaaa000001: 1 note',
    )
    expect((await cli(['note', 'aaaa', 'try dropout 0.3'], {cwd: project})).stderr.trim()).toBe('aaaa000001: 2 notes')
    const listed = (await cli(['note', 'aaaa'], {cwd: project})).stdout.split('\n')
    expect(listed).toHaveLength(2)
    expect(listed[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d {2}overfits after epoch 12$/)
    for (const bad of [
      ['note', 'aaaa', '  '],
      ['note', 'aaaa', 'x'.repeat(10_001)],
    ]) {
      const refused = await cli(bad, {cwd: project})
      expect(refused.exitCode).toBe(2)
      expect(refused.stderr).toMatch(/^error: the note is (empty|10001 characters long)/)
    }
    const shown = (await cli(['show', 'aaaa'], {cwd: project})).stdout
    expect(shown).toMatch(/\nnotes\n {2}\S+ \S+ {2}overfits after epoch 12\n {2}\S+ \S+ {2}try dropout 0\.3\n/)
    expect((await cli(['runs'], {cwd: project})).stdout).toMatch(/note \(latest\)\n.*\n.*try dropout 0\.3/)
    const found = await cli(['compare', '--where', "note ~ '*overfit*'", '--format', 'json'], {cwd: project})
    expect(JSON.parse(found.stdout).map((r: {id: string}) => r.id)).toEqual(['aaaa000001'])
    const none = await cli(['compare', '--where', "note ~ '*underfit*'", '--format', 'json'], {cwd: project})
    expect(JSON.parse(none.stdout)).toEqual([])
    expect(JSON.parse(readFileSync(join(project, '.mlx/runs/aaaa000001/run.json'), 'utf8')).notes).toHaveLength(2)
    // The seeded runs have no config.json (a run made by mlx has): the rebuild needs it.
    writeFileSync(
      join(project, '.mlx/runs/aaaa000001/config.json'),
      JSON.stringify({name: 'small', tags: ['baseline'], optim: {name: 'adam', lr: 0.001}}),
    )
    expect((await cli(['store', 'rebuild'], {cwd: project})).exitCode).toBe(0)
    const after = JSON.parse((await cli(['show', 'aaaa', '--json'], {cwd: project})).stdout)
    expect(after.notes.map((note: {text: string}) => note.text)).toEqual(['overfits after epoch 12', 'try dropout 0.3'])
  })

  it('renames a run, refusing a name with a slash', async () => {
    const project = await seed()
    expect((await cli(['rename', 'small', 'small-lr'], {cwd: project})).exitCode).toBe(0)
    expect(JSON.parse((await cli(['show', 'small-lr', '--json'], {cwd: project})).stdout).id).toBe('aaaa000001')
    const bad = await cli(['rename', 'small-lr', 'a/b'], {cwd: project})
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain('a name is one line of text without slashes')
  })

  it('removes runs only when confirmed: --yes outside a terminal', async () => {
    const project = await seed()
    const unconfirmed = await cli(['rm', 'aaaa'], {cwd: project})
    expect(unconfirmed.exitCode).toBe(2)
    expect(unconfirmed.stderr).toMatch(/needs confirmation\nhint: pass --yes/)
    expect(existsSync(join(project, '.mlx/runs/aaaa000001'))).toBe(true)
    const removed = await cli(['rm', 'aaaa', '--yes', '--json'], {cwd: project})
    expect(JSON.parse(removed.stdout)).toEqual({removed: ['aaaa000001']})
    expect(existsSync(join(project, '.mlx/runs/aaaa000001'))).toBe(false)
    expect(JSON.parse((await cli(['runs', '--json'], {cwd: project})).stdout).map((r: {id: string}) => r.id)).toEqual([
      'bbbb000002',
    ])
    const store = await openStore(join(project, '.mlx'))
    expect(store.metrics('aaaa000001')).toEqual([])
    store.close()
  })

  it('plots runs into PNG, SVG and HTML; a bad file type or an unknown metric is exit 2', async () => {
    const project = await seed()
    for (const out of ['curves.png', 'curves.svg', 'curves.html']) {
      const plotted = await cli(
        ['plot', 'small', 'large', '--metric', 'val/acc', '--metric', 'val/loss', '--out', out, '--json'],
        {cwd: project},
      )
      expect(plotted.exitCode, plotted.stderr).toBe(0)
      expect(JSON.parse(plotted.stdout)).toMatchObject({
        metrics: ['val/acc', 'val/loss'],
        runs: ['aaaa000001', 'bbbb000002'],
        points: 10,
      })
    }
    expect(readFileSync(join(project, 'curves.png')).subarray(0, 4)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]))
    expect(readFileSync(join(project, 'curves.svg'), 'utf8')).toContain('<svg')
    expect(readFileSync(join(project, 'curves.html'), 'utf8')).toMatch(/^<!doctype html>[\s\S]*<svg/)
    expect((await cli(['plot', 'small', '--out', 'x.jpg'], {cwd: project})).stderr).toMatch(
      /must end in \.png, \.svg, \.html/,
    )
    const unknown = await cli(['plot', 'small', '--metric', 'val/accc', '--out', 'x.png'], {cwd: project})
    expect(unknown.exitCode).toBe(2)
    expect(unknown.stderr).toContain('none of these runs logged "val/accc"; did you mean val/acc?')
    expect(unknown.stderr).toMatch(/hint: they logged: val\/acc, val\/loss/)
  })

  it('plots in the terminal without --out: by step, epoch or time, smoothed, on a log scale', async () => {
    const project = await seed()
    const drawn = await cli(['plot', 'small', 'large'], {cwd: project})
    expect(drawn.exitCode, drawn.stderr).toBe(0)
    const lines = drawn.stdout.split('\n')
    expect(lines[0]).toBe('val/acc (higher is better)')
    expect(lines[1]).toBe('  small (aaaa000001)')
    expect(lines[2]).toBe('    best 0.8')
    expect(lines[3]).toMatch(/^ {4}0\.8 ┤/)
    expect(drawn.stdout).toMatch(/step 1 +2\n {2}large \(bbbb000002\)\n {4}best 0\.9\n/)
    const json = JSON.parse((await cli(['plot', 'small', '--json'], {cwd: project})).stdout)
    expect(json).toEqual({out: null, metrics: ['val/acc'], runs: ['aaaa000001'], points: 2})
    // time: seconds since the run's first value; smoothing 0.5: 0.6, then 0.5 * 0.6 + 0.5 * 0.9 = 0.75
    const smoothed = await cli(['plot', 'large', '--x', 'time', '--smooth', '0.5'], {cwd: project})
    expect(smoothed.stdout).toMatch(/^val\/acc \(higher is better\) · smoothed 0\.5$/m)
    expect(smoothed.stdout).toMatch(/seconds 0 +2$/m)
    expect(smoothed.stdout).toMatch(/ 0\.6 ┤•/)
    const logged = await cli(['plot', 'large', '--metric', 'val/loss', '--log-y'], {cwd: project})
    expect(logged.stdout).toMatch(/· log10 scale/)
    expect(logged.stdout).toMatch(/-1 ┤/) // log10(0.1)
    expect((await cli(['plot', 'large', '--x', 'epoch'], {cwd: project})).stdout).toContain('(no val/acc by epoch)')
    for (const [args, message] of [
      [['--smooth', '1'], /--smooth 1 is not a weight/],
      [['--smooth', 'lots'], /--smooth "lots" is not a number/],
      [['--x', 'wall'], /Expected --x=wall to be one of: step, epoch, time/],
    ] as const) {
      const refused = await cli(['plot', 'large', ...args], {cwd: project})
      expect(refused.exitCode, args.join(' ')).toBe(2)
      expect(refused.stderr).toMatch(message)
    }
  })

  it('show draws sparklines for every metric and a line chart of the primary one (or those asked for)', async () => {
    const project = await seed()
    const shown = await cli(['show', 'large'], {cwd: project})
    expect(shown.stdout).toMatch(/^ {2}val\/acc\s+0\.85\s+0\.9 @ 2\s+3 {2}▁█▇$/m)
    expect(shown.stdout).toMatch(/\nval\/acc \(primary\)\n\s+0\.9 ┤/)
    const charted = await cli(['show', 'large', '--chart', 'val/loss'], {cwd: project})
    expect(charted.stdout).toMatch(/\nval\/loss\n/)
    expect(charted.stdout).not.toContain('(primary)')
    expect(JSON.parse((await cli(['show', 'large', '--json'], {cwd: project})).stdout).curves['val/acc']).toEqual([
      [1, 0.6],
      [2, 0.9],
      [3, 0.85],
    ])
  })

  it('diffs two runs: differing params, metrics with the better run named', async () => {
    const project = await seed()
    const diff = JSON.parse((await cli(['diff', 'small', 'large', '--json'], {cwd: project})).stdout) as ReturnType<
      typeof diffRuns
    >
    // Tags label runs (mlx tag changes them); they are not params.
    expect(diff.params).toEqual([{key: 'optim.lr', a: 0.001, b: 0.01}])
    expect(diff.metrics.find((m) => m.key === 'val/acc' && m.aggregate === 'best')).toEqual({
      key: 'val/acc',
      aggregate: 'best',
      a: 0.8,
      b: 0.9,
      better: 'b',
      timing: false,
    })
    // last val/loss: 1 - 0.8 against 1 - 0.85: lower is better, so b
    expect(diff.metrics.find((m) => m.key === 'val/loss' && m.aggregate === 'last')).toMatchObject({better: 'b'})
    const text = await cli(['diff', 'small', 'large'], {cwd: project})
    expect(text.stdout).toMatch(/^optim\.lr\s+0\.001\s+0\.01\s*$/m)
    expect(text.stdout).toMatch(/^val\/acc best\s+0\.8\s+0\.9\s+\+0\.1 \(large better\)$/m)
    // The primary metric first; timing apart and never judged.
    const rows = text.stdout.split('\n')
    expect(rows[2]).toMatch(/^val\/acc best/)
    expect(diff.metrics.map((m) => `${m.key} ${m.aggregate}`)).toEqual([
      'val/acc best',
      'val/acc last',
      'val/loss best',
      'val/loss last',
      'perf/step_time last',
    ])
    expect(diff.metrics.at(-1)).toMatchObject({timing: true, better: null})
    expect(text.stdout).toMatch(/^timing \(not judged\)\n {2}perf\/step_time last\s+0\.9\s+0\.95\s+\+0\.05$/m)
  })
})
