/**
 * The catalog of bad configs (test/fixtures/bad-configs): every file with the exact lines
 * mlx must print for it (expected.json), and the cases that need a file system set-up
 * of their own. Each line is FILE:LINE:COL: key.path: message (hint).
 */
import {chmodSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {describe, expect, it} from 'vitest'
import {checkConfig, parseOverrides} from '../../src/core/config/load.js'
import {formatDiagnostic} from '../../src/core/errors.js'
import {cli, repoRoot, tempDir} from '../helpers/cli.js'
import {MINIMAL_CONFIG} from '../helpers/process.js'

const catalog = join(repoRoot, 'test/fixtures/bad-configs')
const expected = JSON.parse(readFileSync(join(catalog, 'expected.json'), 'utf8')) as Record<string, string[]>

function lines(file: string, sets: string[] = []): string[] {
  const result = checkConfig(file, sets)
  if (!('diagnostics' in result)) return []
  const prefixes = [`${join(file, '..')}/`, `${relative(process.cwd(), join(file, '..'))}/`]
  return result.diagnostics.map((d) =>
    prefixes.reduce((text, prefix) => text.split(prefix).join(''), formatDiagnostic(d)),
  )
}

describe('the catalog of bad configs', () => {
  it('holds at least 40 cases', () => {
    expect(Object.keys(expected).length).toBeGreaterThanOrEqual(40)
  })

  it.each(Object.entries(expected))('%s', (file, want) => {
    expect(lines(join(catalog, file))).toEqual(want)
  })

  it('the CLI prints exactly those lines for all of them at once, exit 2, no stack trace', async () => {
    const files = Object.keys(expected)
    const {exitCode, stderr, stdout} = await cli(['validate', ...files], {cwd: catalog})
    expect(exitCode).toBe(2)
    expect(stdout).toBe('')
    expect(stderr.trim().split('\n').sort()).toEqual(Object.values(expected).flat().sort())
  })

  it('rejects the alias bomb without expanding it', () => {
    const started = performance.now()
    lines(join(catalog, 'alias-bomb.yaml'))
    // Expanding it would build 9^9 nodes; refusing it is a matter of milliseconds.
    expect(performance.now() - started).toBeLessThan(2000)
  })
})

describe('bad files that need a set-up', () => {
  const dir = tempDir()

  it('a missing file', () => {
    expect(lines(join(dir, 'missing.yaml'))).toEqual([
      'missing.yaml:1:1: file not found (check the path; it is relative to the current directory)',
    ])
  })

  it('a directory given as the file', () => {
    mkdirSync(join(dir, 'folder.yaml'))
    expect(lines(join(dir, 'folder.yaml'))).toEqual([
      'folder.yaml:1:1: is a directory, not a config file (give the path of a .yaml file)',
    ])
  })

  it('an unreadable file (a path through a file)', () => {
    writeFileSync(join(dir, 'plain'), 'x')
    expect(lines(join(dir, 'plain', 'c.yaml'))).toEqual(['c.yaml:1:1: cannot read the file (ENOTDIR)'])
  })

  it.skipIf(process.getuid?.() === 0)('a file without read permission', () => {
    writeFileSync(join(dir, 'secret.yaml'), MINIMAL_CONFIG)
    chmodSync(join(dir, 'secret.yaml'), 0o000)
    expect(lines(join(dir, 'secret.yaml'))).toEqual(['secret.yaml:1:1: cannot read the file (EACCES)'])
  })

  it('a non-UTF-8 file, at the first bad byte', () => {
    writeFileSync(
      join(dir, 'latin1.yaml'),
      Buffer.concat([
        Buffer.from('name: x\ntask: image-classification\ndescription: caf'),
        Buffer.from([0xe9]),
        Buffer.from('\n'),
      ]),
    )
    expect(lines(join(dir, 'latin1.yaml'))).toEqual([
      'latin1.yaml:3:17: file is not valid UTF-8 text (save it as UTF-8)',
    ])
  })

  it('a file over 1 MiB', () => {
    writeFileSync(join(dir, 'big.yaml'), `${MINIMAL_CONFIG}# ${'x'.repeat(1024 * 1024)}\n`)
    expect(lines(join(dir, 'big.yaml'))).toEqual([
      expect.stringMatching(
        /^big\.yaml:1:1: file is \d+ bytes; a config may be at most 1 MiB \(keep data out of the config/,
      ),
    ])
  })

  it('malformed --set flags, each named', () => {
    writeFileSync(join(dir, 'ok.yaml'), MINIMAL_CONFIG)
    expect(
      lines(join(dir, 'ok.yaml'), ['optim.lr', '=1', 'optim..lr=1', 'model.channels=[1, 2', 'extends=base.yaml']),
    ).toEqual([
      '--set optim.lr: expected KEY.PATH=VALUE (for example --set optim.lr=0.01)',
      '--set =1: expected KEY.PATH=VALUE (for example --set optim.lr=0.01)',
      '--set optim..lr=1: expected KEY.PATH=VALUE (for example --set optim.lr=0.01)',
      expect.stringMatching(/^--set model\.channels=\[1, 2: model\.channels: the value is not valid YAML: /),
      '--set extends=base.yaml: extends: extends cannot be set from the command line (name the base in the file)',
    ])
    expect(parseOverrides(['a.b=c']).overrides).toEqual([{flag: '--set a.b=c', path: ['a', 'b'], value: 'c'}])
  })
})
