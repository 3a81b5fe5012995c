import {existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {binRun, cli, cliEnv, repoRoot, tempDir, tempProject} from '../helpers/cli.js'

// ink, React and better-sqlite3 are the contract; zod, yaml (bundled into dist/vendor/) and execa are kept off start-up too.
const HEAVY =
  /\/node_modules\/(ink|react|react-reconciler|better-sqlite3|zod|yaml|execa)\/|\/dist\/vendor\/(zod|yaml)\.js$/

async function importsOf(args: string[]): Promise<string[]> {
  const trace = join(tempDir(), 'imports.txt')
  const result = await execa('node', ['--import', join(repoRoot, 'test/fixtures/trace-imports.mjs'), binRun, ...args], {
    env: cliEnv({MLX_TRACE_IMPORTS: trace}),
    cwd: tempDir(),
    reject: false,
  })
  expect(result.exitCode).toBe(0)
  return readFileSync(trace, 'utf8').trim().split('\n')
}

describe('the mlx binary', () => {
  it('several mlx opening a new store at once (the nodes of one run) all find it ready', async () => {
    for (let round = 0; round < 3; round++) {
      const project = tempProject()
      const results = await Promise.all(Array.from({length: 6}, () => cli(['runs', '--json'], {cwd: project})))
      for (const result of results) {
        expect(result.stderr).toBe('')
        expect(JSON.parse(result.stdout)).toEqual([])
      }
    }
  })

  it('--version and --help load neither ink, React, better-sqlite3, nor zod, yaml or execa', async () => {
    for (const args of [['--version'], ['--help'], ['run', '--help'], ['compare', '--help']]) {
      const imports = await importsOf(args)
      // The trace does see the command modules (oclif loads the command table even for --version).
      expect(imports.some((url) => url.endsWith('/dist/commands/index.js'))).toBe(true)
      expect(imports.filter((url) => HEAVY.test(url))).toEqual([])
    }
  })

  it('commands that only read runs load neither ink and React (for json) nor zod and execa', async () => {
    const project = tempProject()
    for (const args of [
      ['compare', '--format', 'json'],
      ['runs', '--json'],
      ['show', 'x', '--json'],
    ]) {
      const trace = join(project, `imports-${args[0]}.txt`)
      await execa('node', ['--import', join(repoRoot, 'test/fixtures/trace-imports.mjs'), binRun, ...args], {
        cwd: project,
        env: cliEnv({MLX_TRACE_IMPORTS: trace}),
        reject: false,
      })
      const loaded = readFileSync(trace, 'utf8').split('\n')
      expect(
        loaded.filter((url) =>
          /\/node_modules\/(ink|react|react-reconciler|zod|execa)\/|\/dist\/vendor\/zod\.js$/.test(url),
        ),
        args.join(' '),
      ).toEqual([])
      expect(loaded.some((url) => url.includes('/node_modules/better-sqlite3/'))).toBe(true)
    }
  })

  it('the trace sees the heavy modules where they are loaded', async () => {
    const project = tempProject()
    const trace = join(project, 'imports.txt')
    await execa('node', ['--import', join(repoRoot, 'test/fixtures/trace-imports.mjs'), binRun, 'runs'], {
      cwd: project,
      env: cliEnv({MLX_TRACE_IMPORTS: trace}),
      reject: false,
    })
    expect(readFileSync(trace, 'utf8')).toMatch(/node_modules\/better-sqlite3\//)
  })

  it('colours statuses in a terminal, and not at all under NO_COLOR', async () => {
    const draw = async (env: Record<string, string>) =>
      String(
        (
          await execa('node', [join(repoRoot, 'test/fixtures/render-status.mjs'), join(repoRoot, 'dist/ui/print.js')], {
            env: {FORCE_COLOR: '3', ...env},
            extendEnv: false,
          })
        ).stdout,
      )
    expect(await draw({})).toBe('coloured')
    expect(await draw({NO_COLOR: '1'})).toBe('plain')
  })

  it('lists every command of the contract in --help', async () => {
    const {stdout, exitCode} = await cli(['--help'], {cwd: tempDir()})
    expect(exitCode).toBe(0)
    for (const command of ['init', 'validate', 'schema', 'run', 'runs', 'show', 'compare', 'doctor'])
      expect(stdout).toMatch(new RegExp(`^\\s+${command}\\s`, 'm'))
  })

  it('every command of the table answers --help: its usage, summary and every flag, exit 0, stderr empty', async () => {
    const {COMMANDS} = await import('../../src/commands/index.js')
    const top = (await cli(['--help'], {cwd: tempDir()})).stdout
    const flat = (text: string) => text.replace(/\s+/g, ' ')
    expect(Object.keys(COMMANDS).length).toBeGreaterThanOrEqual(17)
    for (const [id, command] of Object.entries(COMMANDS)) {
      const words = id.split(':')
      expect(top, id).toMatch(new RegExp(`^\\s+${words[0]}\\s`, 'm'))
      const {stdout, stderr, exitCode} = await cli([...words, '--help'], {cwd: tempDir()})
      expect({id, exitCode, stderr}).toEqual({id, exitCode: 0, stderr: ''})
      expect(stdout, id).toContain(`$ mlx ${words.join(' ')}`)
      expect(flat(stdout), id).toContain(flat(command.summary!))
      // Said once, not above the usage and again under DESCRIPTION; no empty defaults.
      expect(flat(stdout).split(flat(command.summary!)).length - 1, id).toBe(1)
      expect(stdout, id).not.toContain('[default: ]')
      for (const flag of Object.keys(command.flags ?? {})) expect(stdout, `${id} --${flag}`).toContain(`--${flag}`)
    }
  })

  it('completes commands and flags in bash (oclif autocomplete), its setup said in one line', async () => {
    const cache = tempDir()
    const env = {XDG_CACHE_HOME: cache}
    const setup = await cli(['autocomplete', 'bash'], {cwd: tempDir(), env})
    expect(setup.exitCode, setup.stderr).toBe(0)
    expect(setup.stdout).toContain('mlx autocomplete script bash')
    const script = await cli(['autocomplete', 'script', 'bash'], {cwd: tempDir(), env})
    expect(script.exitCode, script.stderr).toBe(0)
    expect(script.stdout).toContain('MLX_AC_BASH_SETUP_PATH=')
    const functions = join(cache, 'mlx/autocomplete/functions/bash/mlx.bash')
    expect(existsSync(functions)).toBe(true)
    const complete = async (words: string[]) =>
      (
        await execa('bash', [
          '-c',
          `source ${JSON.stringify(functions)}; COMP_WORDS=(${words.join(' ')}); COMP_CWORD=${words.length - 1}; COMP_LINE=${JSON.stringify(words.join(' '))}; _mlx_autocomplete; echo "\${COMPREPLY[@]}"`,
        ])
      ).stdout.trim()
    expect(await complete(['mlx', 'tensorb'])).toBe('tensorboard')
    expect(await complete(['mlx', 'compare', '--wh'])).toBe('--where')
    expect((await cli(['autocomplete', 'zsh'], {cwd: tempDir(), env})).exitCode).toBe(0)
  })

  it('make install puts mlx on the PATH without root: a link in PREFIX/bin', async () => {
    const prefix = tempDir()
    const made = await execa('make', ['-s', 'install', `PREFIX=${prefix}`], {cwd: repoRoot, reject: false})
    expect(made.exitCode, made.stderr).toBe(0)
    expect(made.stdout).toContain(`installed: ${prefix}/bin/mlx`)
    expect(made.stdout).toContain('is not on your PATH')
    const version = await execa(join(prefix, 'bin', 'mlx'), ['--version'], {cwd: tempDir(), env: cliEnv()})
    expect(version.stdout).toMatch(/^mlx\/\d+\.\d+\.\d+ /)
  })

  it('exits 2 on an unknown flag, without a stack trace', async () => {
    const {exitCode, stderr} = await cli(['runs', '--bogus'], {cwd: tempProject()})
    expect(exitCode).toBe(2)
    expect(stderr).not.toMatch(/\n\s+at /)
  })
})

describe('mlx init', () => {
  it('scaffolds a project that validates, and lists templates', async () => {
    const dir = tempDir()
    const {exitCode, stderr} = await cli(['init', 'demo', '--template', 'image-classification'], {cwd: dir})
    expect(exitCode).toBe(0)
    expect(stderr).toContain('next: cd demo && mlx run configs/image-classification.yaml')
    const project = join(dir, 'demo')
    expect(readdirSync(project).sort()).toEqual(['.gitignore', 'configs', 'mlx.schema.json', 'mlx.yaml'])
    const config = readFileSync(join(project, 'configs/image-classification.yaml'), 'utf8')
    expect(config.split('\n')[0]).toBe('# yaml-language-server: $schema=../mlx.schema.json')
    expect(readFileSync(join(project, '.gitignore'), 'utf8')).toContain('.mlx/\ndata/\n')
    expect(JSON.parse(readFileSync(join(project, 'mlx.schema.json'), 'utf8')).title).toBe('mlx experiment config')
    expect((await cli(['validate', 'configs/image-classification.yaml'], {cwd: project})).exitCode).toBe(0)

    const list = await cli(['init', '--list'], {cwd: dir})
    for (const task of ['image-classification', 'tabular', 'text-classification'])
      expect(list.stdout).toMatch(new RegExp(`^${task}\\s+\\S`, 'm'))
  })

  it('never overwrites an existing project without --force', async () => {
    const dir = tempDir()
    await cli(['init', '.'], {cwd: dir})
    writeFileSync(join(dir, 'configs/image-classification.yaml'), 'mine\n')
    const again = await cli(['init', '.'], {cwd: dir})
    expect(again.exitCode).toBe(2)
    expect(again.stderr).toMatch(/already exist.*\nhint: nothing was changed; pass --force to overwrite/)
    expect(readFileSync(join(dir, 'configs/image-classification.yaml'), 'utf8')).toBe('mine\n')
    const forced = await cli(['init', '.', '--force'], {cwd: dir})
    expect(forced.exitCode).toBe(0)
    expect(readFileSync(join(dir, 'configs/image-classification.yaml'), 'utf8')).toContain('task: image-classification')
  })

  it('keeps an existing .gitignore, adding only what it lacks', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, '.gitignore'), 'node_modules\n.mlx/')
    await cli(['init', '.'], {cwd: dir})
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('node_modules\n.mlx/\ndata/\n.venv/\n__pycache__/\n')
  })

  it('rejects an unknown template with a suggestion', async () => {
    const {exitCode, stderr} = await cli(['init', 'x', '--template', 'image-clasification'], {cwd: tempDir()})
    expect(exitCode).toBe(2)
    expect(stderr).toContain('did you mean image-classification?')
  })
})

describe('mlx validate and mlx schema', () => {
  it('prints one FILE:LINE:COL line per problem across files, exit 2, no stack trace', async () => {
    const project = tempProject({
      'bad.yaml': 'name: x\ntask: image-classification\noptim: {lr: "fast", lrr: 1}\n',
      'broken.yaml': 'name: [x\n',
      'good.yaml': 'name: ok\ntask: image-classification\n',
    })
    const {exitCode, stderr} = await cli(['validate', 'good.yaml', 'bad.yaml', 'broken.yaml'], {cwd: project})
    expect(exitCode).toBe(2)
    expect(stderr.trim().split('\n')).toEqual([
      'good.yaml: valid (ok, image-classification)',
      'bad.yaml:3:13: optim.lr: expected number, found the string "fast"',
      'bad.yaml:3:21: optim.lrr: unknown key "lrr" (did you mean optim.lr?)',
      expect.stringMatching(/^broken\.yaml:2:1: /),
    ])
  })

  it('--json gives the errors as objects', async () => {
    const project = tempProject({'bad.yaml': 'name: x\ntask: image-classification\ntrain: {epochs: 0}\n'})
    const {exitCode, stdout} = await cli(['validate', 'bad.yaml', '--json'], {cwd: project})
    expect(exitCode).toBe(2)
    expect(JSON.parse(stdout)).toEqual({
      errors: [
        {source: 'bad.yaml', line: 3, column: 17, path: 'train.epochs', message: 'must be >= 1, found number 0'},
      ],
    })
  })

  it('the committed mlx.schema.json and docs/config-reference.md are what `mlx schema` prints (make docs)', async () => {
    const {stdout} = await cli(['schema'], {cwd: tempDir()})
    expect(JSON.parse(stdout)).toEqual(JSON.parse(readFileSync(join(repoRoot, 'mlx.schema.json'), 'utf8')))
    const markdown = await cli(['schema', '--markdown'], {cwd: tempDir()})
    expect(markdown.stdout).toBe(readFileSync(join(repoRoot, 'docs/config-reference.md'), 'utf8').trimEnd())
  })

  it('a JSON Schema validator (ajv) accepts every config in configs/ and rejects bad ones', async () => {
    const {Ajv2020} = await import('ajv/dist/2020.js')
    const {parse} = await import('yaml')
    const validate = new Ajv2020({strict: false}).compile(JSON.parse((await cli(['schema'], {cwd: tempDir()})).stdout))
    const configs = readdirSync(join(repoRoot, 'configs'))
    expect(configs.length).toBeGreaterThan(0)
    for (const name of configs) {
      const ok = validate(parse(readFileSync(join(repoRoot, 'configs', name), 'utf8')))
      expect(ok, `${name}: ${JSON.stringify(validate.errors)}`).toBe(true)
    }
    for (const name of [
      'unknown-key-top.yaml',
      'type-batch-size-string.yaml',
      'range-negative-lr.yaml',
      'unknown-key-other-optimiser.yaml',
      'missing-name.yaml',
    ]) {
      expect(validate(parse(readFileSync(join(repoRoot, 'test/fixtures/bad-configs', name), 'utf8'))), name).toBe(false)
    }
  })

  it('every config in configs/ validates', async () => {
    const configs = readdirSync(join(repoRoot, 'configs')).map((name) => join(repoRoot, 'configs', name))
    const {exitCode, stderr} = await cli(['validate', ...configs], {cwd: repoRoot})
    expect(stderr).not.toMatch(/:\d+:\d+:/)
    expect(exitCode).toBe(0)
  })
})

describe('mlx run with bad input', () => {
  it.each([
    ['a syntax error', 'name: x\ntask: image-classification\ndata: {batch_size: 64\n', /^bad\.yaml:4:1: /m],
    [
      'a wrong type',
      'name: x\ntask: image-classification\ntrain: {epochs: many}\n',
      /^bad\.yaml:3:17: train\.epochs: expected number, found the string "many"$/m,
    ],
    [
      'an unknown key',
      'name: x\ntask: image-classification\nmodle: {arch: cnn}\n',
      /^bad\.yaml:3:1: modle: unknown key "modle" \(did you mean model\?\)$/m,
    ],
  ])('%s: exit 2, FILE:LINE:COL, no stack trace, no run created', async (_what, text, expected) => {
    const project = tempProject({'bad.yaml': text})
    const {exitCode, stderr, stdout} = await cli(['run', 'bad.yaml'], {cwd: project})
    expect(exitCode).toBe(2)
    expect(stderr).toMatch(expected)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).not.toMatch(/\n\s+at /)
    expect(stdout).toBe('')
    expect(existsSync(join(project, '.mlx'))).toBe(false)
  })

  it('a missing config file: exit 2', async () => {
    const {exitCode, stderr} = await cli(['run', 'nope.yaml'], {cwd: tempProject()})
    expect(exitCode).toBe(2)
    expect(stderr.trim()).toBe(
      'nope.yaml:1:1: file not found (check the path; it is relative to the current directory)',
    )
  })

  it('a Python without torch: exit 2 with how to fix it, no run created', async () => {
    const project = tempProject({'c.yaml': 'name: x\ntask: image-classification\n'})
    await execa('python3', ['-m', 'venv', '--without-pip', join(project, 'bare')])
    const bare = join(project, 'bare/bin/python')
    const {exitCode, stderr} = await cli(['run', 'c.yaml', '--python', bare], {cwd: project})
    expect(exitCode).toBe(2)
    expect(stderr).toMatch(new RegExp(`^error: ${bare} \\(Python [\\d.]+, chosen by --python\\) has no torch`))
    expect(stderr).toContain(`hint: install it there with \`${bare} -m pip install torch\``)
    expect(existsSync(join(project, '.mlx'))).toBe(false)
  })

  it('a Python that does not exist: exit 2, named with why it was chosen', async () => {
    const {exitCode, stderr} = await cli(['run', 'c.yaml'], {
      cwd: tempProject({'c.yaml': 'name: x\ntask: image-classification\n'}),
      env: {MLX_PYTHON: '/no/such/python'},
    })
    expect(exitCode).toBe(2)
    expect(stderr).toMatch(/^error: Python interpreter not found: \/no\/such\/python \(chosen by MLX_PYTHON\)/)
  })

  it('an unknown run: exit 2 with a hint', async () => {
    const {exitCode, stderr} = await cli(['show', 'nothing'], {cwd: tempProject()})
    expect(exitCode).toBe(2)
    expect(stderr).toMatch(/^error: no run matches "nothing"\nhint: /)
  })
})

describe('mlx.yaml', () => {
  it('an unknown key is exit 2 with its position and a suggestion', async () => {
    const project = tempProject()
    writeFileSync(join(project, 'mlx.yaml'), '# project\npyhton: .venv/bin/python\n')
    const {exitCode, stderr} = await cli(['runs'], {cwd: project})
    expect(exitCode).toBe(2)
    expect(stderr.trim()).toBe(`${join(project, 'mlx.yaml')}:2:1: pyhton: unknown key "pyhton" (did you mean python?)`)
  })

  it('marks the project root for commands run in a folder below it', async () => {
    const project = tempProject()
    mkdirSync(join(project, 'a', 'b'), {recursive: true})
    const {stdout} = await cli(['doctor', '--json'], {cwd: join(project, 'a', 'b')})
    expect(JSON.parse(stdout).project).toMatchObject({root: project, store: join(project, '.mlx')})
  })
})
