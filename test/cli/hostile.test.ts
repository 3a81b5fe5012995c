/**
 * What a hostile user types, through the real CLI: every case an exit code of the contract, a
 * message that says what and where (no stack trace, no unbounded echo), nothing hanging and
 * nothing created.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {openStore} from '../../src/core/store/open.js'
import {cli, tempProject} from '../helpers/cli.js'
import {MINIMAL_CONFIG} from '../helpers/process.js'

/** A project whose store holds runs of these names (made through the store: no training needed). */
async function projectWithRuns(names: string[]): Promise<string> {
  const project = tempProject()
  const store = await openStore(join(project, '.mlx'))
  names.forEach((name, index) => {
    const id = `${String(index).padStart(4, '0')}aaaaaa`
    store.createRun(
      {
        id,
        name,
        task: 'image-classification',
        host: 'h',
        config: {name, optim: {lr: 0.001 * (index + 1)}},
        primaryMetric: 'val/acc',
        primaryGoal: 'max',
      },
      1000 + index,
    )
    store.finishRun(id, {status: 'completed', endedAt: 1010 + index, exitCode: 0, signal: null, error: null})
  })
  store.close()
  return project
}

const noTrace = (stderr: string) => expect(stderr).not.toMatch(/^\s+at .+[:(]\d+/m)

describe('--where does bounded work', () => {
  it('a glob that backtracks a regular expression for minutes answers at once; deep nesting and huge input are exit 2 with the column; 8,000 or-terms work', async () => {
    const project = await projectWithRuns(['a'.repeat(40), 'lr-0.01', '<b>bold</b>'])
    const started = Date.now()
    const glob = await cli(['compare', '--where', `name ~ '${'*a'.repeat(14)}*b'`, '--format', 'json'], {cwd: project})
    expect(glob.exitCode, glob.stderr).toBe(0)
    expect(JSON.parse(glob.stdout)).toEqual([])
    expect(Date.now() - started).toBeLessThan(20_000)

    const nested = await cli(['compare', '--where', `${'('.repeat(20_000)}name = x${')'.repeat(20_000)}`], {
      cwd: project,
    })
    expect(nested.exitCode).toBe(2)
    expect(nested.stderr).toMatch(
      /^error: --where "\({80}… \(40008 characters\)": column 65: parentheses and "not" nest more than 64 deep\nhint: /,
    )
    noTrace(nested.stderr)

    const wide = await cli(
      [
        'compare',
        '--where',
        Array.from({length: 8000}, (_, i) => `name = r${i}`).join(' or ') + " or name = 'lr-0.01'",
        '--format',
        'json',
      ],
      {cwd: project},
    )
    expect(wide.exitCode, wide.stderr).toBe(0)
    expect(JSON.parse(wide.stdout).map((run: {name: string}) => run.name)).toEqual(['lr-0.01'])
  })
})

describe('output that other programs render', () => {
  it('compare --format markdown writes run names as text, never as HTML', async () => {
    const project = await projectWithRuns(['<img src=x onerror=alert(1)>', 'a|b [x](javascript:alert(1))'])
    const markdown = await cli(['compare', '--format', 'markdown'], {cwd: project})
    expect(markdown.exitCode).toBe(0)
    expect(markdown.stdout).toContain('| &lt;img src=x onerror=alert(1)&gt; |')
    expect(markdown.stdout).toContain('| a\\|b \\[x\\](javascript:alert(1)) |')
    expect(markdown.stdout).not.toMatch(/<img/)
  })
})

describe('config input', () => {
  it('a __proto__ key or --set is exit 2 at its position, in validate and run alike; nothing is created', async () => {
    const project = tempProject({'c.yaml': MINIMAL_CONFIG, 'p.yaml': `${MINIMAL_CONFIG}__proto__:\n  polluted: 1\n`})
    for (const args of [
      ['validate', 'c.yaml', '--set', '__proto__.polluted=1'],
      ['run', 'c.yaml', '--set', '__proto__.polluted=1'],
      ['validate', 'p.yaml'],
      ['run', 'p.yaml'],
    ]) {
      const refused = await cli(args, {cwd: project})
      expect(refused.exitCode, args.join(' ')).toBe(2)
      expect(refused.stderr).toMatch(/^(--set __proto__\.polluted=1|p\.yaml:7:1): __proto__: unknown key "__proto__"/)
      noTrace(refused.stderr)
    }
    expect(existsSync(join(project, '.mlx'))).toBe(false)
  })

  it('--name is held to the name rule: a newline, a slash or nothing is exit 2 on the flag, and no run is made', async () => {
    const project = tempProject({'c.yaml': MINIMAL_CONFIG})
    for (const name of ['x\ntouch owned #', '../x', '']) {
      const refused = await cli(['run', 'c.yaml', '--name', name], {cwd: project})
      expect(refused.exitCode, JSON.stringify(name)).toBe(2)
      expect(refused.stderr).toMatch(/^--name ".*": name: /)
    }
    expect(existsSync(join(project, '.mlx'))).toBe(false)
  })

  it('a FIFO or a device as a config, a base or mlx.yaml is refused at once, never read', async () => {
    const project = tempProject({'base.yaml': `extends: /dev/zero\n${MINIMAL_CONFIG}`})
    execFileSync('mkfifo', [join(project, 'fifo.yaml')])
    const started = Date.now()
    for (const [args, where] of [
      [['validate', 'fifo.yaml'], 'fifo.yaml'],
      [['validate', '/dev/zero'], '/dev/zero'],
      [['run', 'base.yaml'], '/dev/zero'],
    ] as const) {
      const refused = await cli([...args], {cwd: project})
      expect(refused.exitCode, args.join(' ')).toBe(2)
      expect(refused.stderr).toMatch(
        new RegExp(`${where.replace('.', '\\.')}:1:1: is not a regular file \\(a pipe, a device or a socket\\)`),
      )
    }
    const fifoProject = tempProject()
    execFileSync('rm', [join(fifoProject, 'mlx.yaml')])
    execFileSync('mkfifo', [join(fifoProject, 'mlx.yaml')])
    const runs = await cli(['runs'], {cwd: fifoProject})
    expect(runs.exitCode).toBe(2)
    expect(runs.stderr).toMatch(/mlx\.yaml:1:1: is not a regular file/)
    expect(Date.now() - started).toBeLessThan(30_000)
  })

  it('a data file that is not there is exit 2 at its position before any run is made', async () => {
    const project = tempProject({
      't.yaml':
        'name: t\ntask: tabular\ndata:\n  source: csv\n  path: data/nowhere.csv\n  target: y\n  kind: regression\n',
    })
    const refused = await cli(['run', 't.yaml'], {cwd: project})
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr.trim()).toBe(
      `t.yaml:5:9: data.path: no such file: ${join(project, 'data/nowhere.csv')} (paths in data and model are relative to the project root (${project}))`,
    )
    expect(existsSync(join(project, '.mlx'))).toBe(false)
    const validated = await cli(['validate', 't.yaml'], {cwd: project})
    expect(validated.exitCode).toBe(2)
    mkdirSync(join(project, 'data', 'nowhere.csv'), {recursive: true})
    expect((await cli(['validate', 't.yaml'], {cwd: project})).stderr).toMatch(
      /data\.path: .*nowhere\.csv is not a file/,
    )
  })

  it('echoes no more than an excerpt of a huge argument', async () => {
    const project = await projectWithRuns(['a'])
    // Near the largest argument Linux passes to a program (128 KiB).
    const huge = 'x'.repeat(120_000)
    for (const args of [
      ['show', huge],
      ['compare', '--where', `name = ${huge} and`],
      ['compare', '--where', `${huge} = 1`],
      ['runs', '--since', huge],
      ['validate', 'nope.yaml', '--set', `optim.name=${huge}`],
    ]) {
      const refused = await cli(args, {cwd: project})
      expect(refused.exitCode, args[0]).toBe(2)
      expect(refused.stderr.length, `${args[0]}: ${refused.stderr.slice(0, 200)}`).toBeLessThan(2000)
    }
  })
})

describe('the interpreter', () => {
  it('one that hangs (and leaves a child holding its output) is stopped at the timeout, said so, exit 2; no run, no process left', async () => {
    const project = tempProject({'c.yaml': MINIMAL_CONFIG, 'hang.sh': '#!/bin/sh\nsleep 600 &\nsleep 600\n'})
    execFileSync('chmod', ['+x', join(project, 'hang.sh')])
    const started = Date.now()
    const hung = await cli(['run', 'c.yaml', '--python', join(project, 'hang.sh')], {
      cwd: project,
      env: {MLX_PROBE_TIMEOUT_SECONDS: '2'},
    })
    expect(hung.exitCode).toBe(2)
    expect(hung.stderr).toMatch(
      /hang\.sh \(chosen by --python\) did not answer within 2 s \(timed out\): it was stopped, with every process it started/,
    )
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(existsSync(join(project, '.mlx'))).toBe(false)
    const left = execFileSync('sh', ['-c', `ps -eo args | grep -c '^sleep 600$' || true`]).toString().trim()
    expect(Number(left)).toBe(0)
  })

  it('one that exits at once, a folder, or a program that is not Python: each said why (exit 2)', async () => {
    const project = tempProject({'c.yaml': MINIMAL_CONFIG})
    const cases: Array<[string, RegExp]> = [
      [
        '/bin/false',
        /^error: \/bin\/false \(chosen by --python\) exited with status 1 and printed nothing: it does not behave as a Python interpreter/,
      ],
      [project, /^error: .* \(chosen by --python\) is a directory, not a Python interpreter/],
      [
        '/bin/echo',
        /^error: \/bin\/echo \(chosen by --python\) answered with something that is not Python's: "-m mlx_runtime --probe quick"/,
      ],
    ]
    for (const [python, message] of cases) {
      const refused = await cli(['run', 'c.yaml', '--python', python], {cwd: project})
      expect(refused.exitCode, python).toBe(2)
      expect(refused.stderr, python).toMatch(message)
    }
    expect(readdirSync(project)).not.toContain('.mlx')
  })

  it('mlx doctor exits 1 when no Python here can train', async () => {
    const doctor = await cli(['doctor', '--json'], {cwd: tempProject(), env: {MLX_PYTHON: '/no/such/python'}})
    expect(doctor.exitCode).toBe(1)
    expect(JSON.parse(doctor.stdout)).toMatchObject({
      ok: false,
      python: {ok: false, problem: 'Python interpreter not found: /no/such/python (chosen by MLX_PYTHON)'},
    })
    expect(doctor.stderr).toMatch(/^error: mlx doctor: no Python here can train \(see above\)$/m)
  })
})
