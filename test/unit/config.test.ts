import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {checkConfig, loadConfig, parseOverrides} from '../../src/core/config/load.js'
import {ConfigError, formatDiagnostic} from '../../src/core/errors.js'
import {tempDir} from '../helpers/cli.js'
import {MINIMAL_CONFIG} from '../helpers/process.js'

const MINIMAL = MINIMAL_CONFIG

function problems(text: string, sets: string[] = []): string[] {
  const dir = tempDir()
  const file = join(dir, 'c.yaml')
  writeFileSync(file, text)
  const result = checkConfig(file, sets)
  if (!('diagnostics' in result)) return []
  return result.diagnostics.map((d) => formatDiagnostic(d).replace(dir + '/', ''))
}

describe('loading configs', () => {
  it('fills every default in the DESIGN.md minimal config', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'c.yaml'), MINIMAL)
    const {config} = loadConfig(join(dir, 'c.yaml'))
    expect(config).toMatchObject({
      name: 'digits-cnn',
      seed: 0,
      data: {batch_size: 64, val_fraction: 0.2, num_workers: 0},
      model: {arch: 'cnn', channels: [32, 64]},
      optim: {name: 'adam', lr: 0.001, betas: [0.9, 0.999]},
      scheduler: {name: 'none'},
      train: {epochs: 2, log_every: 10, eval_every: 1},
      launch: {launcher: 'local', device: 'auto'},
      metrics: {primary: 'val/acc'},
    })
  })

  it('reports a YAML syntax error at its line and column', () => {
    expect(problems('name: x\ntask: [image-classification\n')).toEqual([expect.stringMatching(/^c\.yaml:3:1: /)])
  })

  it('reports a wrong type at the value, with what was found', () => {
    expect(problems(MINIMAL.replace('lr: 0.001', 'lr: fast'))).toEqual(['c.yaml:5:25: optim.lr: expected number, found the string "fast"'])
  })

  it('reports an unknown key at the key itself, with a suggestion', () => {
    expect(problems(MINIMAL.replace('train: {epochs: 2}', 'train:\n  epochs: 2\n  epoks: 3'))).toEqual([
      'c.yaml:8:3: train.epoks: unknown key "epoks" (did you mean train.epochs?)',
    ])
  })

  it('reports every problem at once', () => {
    const text = MINIMAL.replace('lr: 0.001', 'lr: -1').replace('batch_size: 64', 'batch_size: 0').replace('{arch: cnn}', '{arch: cnn, depth: 3}')
    expect(problems(text)).toEqual([
      'c.yaml:3:36: data.batch_size: must be >= 1, found number 0',
      'c.yaml:4:20: model.depth: unknown key "depth" (known keys: arch, channels, hidden, dropout, pretrained, freeze, unfreeze_at_epoch)',
      'c.yaml:5:25: optim.lr: must be > 0, found number -1',
    ])
  })

  it('explains whole numbers and list lengths', () => {
    expect(problems(MINIMAL.replace('batch_size: 64', 'batch_size: 6.5').replace('{arch: cnn}', '{arch: cnn, channels: [8]}'))).toEqual([
      'c.yaml:3:36: data.batch_size: expected a whole number, found 6.5',
      'c.yaml:4:30: model.channels: must have at least 2 items, found a list of 1',
    ])
  })

  it('suggests the near enum value', () => {
    expect(problems(MINIMAL.replace('name: adam', 'name: adamm'))).toEqual(['c.yaml:5:15: optim.name: "adamm" is not one of adam, adamw, sgd (did you mean adam?)'])
  })

  it('names the tasks for an unknown task', () => {
    expect(problems(MINIMAL.replace('task: image-classification', 'task: image-clasification'))).toEqual([
      'c.yaml:2:7: task: unknown task "image-clasification"; expected one of image-classification, tabular, text-classification, speech-recognition, rl-dqn, recsys-dlrm, script (did you mean image-classification?)',
    ])
  })

  it('points a missing required field at its parent', () => {
    expect(problems(MINIMAL.replace('name: digits-cnn\n', ''))).toEqual(['c.yaml:1:1: name: required string is missing'])
  })

  it('refuses an empty file, a list, a scalar, and several documents', () => {
    expect(problems('')).toEqual([expect.stringMatching(/^c\.yaml:1:1: file is empty/)])
    expect(problems('- a\n- b\n')).toEqual([expect.stringMatching(/^c\.yaml:1:1: expected a mapping of sections at the top level, found a list/)])
    expect(problems('42\n')).toEqual([expect.stringMatching(/found the scalar 42/)])
    expect(problems(`${MINIMAL}---\n${MINIMAL}`)).toEqual([expect.stringMatching(/^c\.yaml:7:1: a config is one YAML document; this file holds several/)])
  })

  it('refuses duplicate keys and tabs', () => {
    expect(problems(`${MINIMAL}seed: 1\nseed: 2\n`)).toEqual([expect.stringMatching(/^c\.yaml:8:1: this key appears twice/)])
    expect(problems('name: x\ntask: image-classification\ndata:\n\tbatch_size: 3\n')[0]).toMatch(/^c\.yaml:4:1: a tab is used for indentation/)
  })

  it('reports a missing file, a directory, non-UTF-8 bytes (where they are) and an oversized file', () => {
    const dir = tempDir()
    expect(formatDiagnostic((checkConfig(join(dir, 'nope.yaml')) as {diagnostics: never[]}).diagnostics[0]!)).toMatch(/nope\.yaml:1:1: file not found/)
    mkdirSync(join(dir, 'folder.yaml'))
    expect(formatDiagnostic((checkConfig(join(dir, 'folder.yaml')) as {diagnostics: never[]}).diagnostics[0]!)).toMatch(/folder\.yaml:1:1: is a directory/)
    writeFileSync(join(dir, 'latin1.yaml'), Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xe9, 0x0a]))
    expect(formatDiagnostic((checkConfig(join(dir, 'latin1.yaml')) as {diagnostics: never[]}).diagnostics[0]!)).toMatch(/latin1\.yaml:1:7: file is not valid UTF-8/)
    writeFileSync(join(dir, 'big.yaml'), `# ${'x'.repeat(1024 * 1024)}\n`)
    expect(formatDiagnostic((checkConfig(join(dir, 'big.yaml')) as {diagnostics: never[]}).diagnostics[0]!)).toMatch(/big\.yaml:1:1: file is \d+ bytes; a config may be at most 1 MiB/)
  })

  it('refuses an alias bomb quickly', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`)
    const started = performance.now()
    expect(problems(bomb.join('\n'))[0]).toMatch(/^c\.yaml:1:1: .*alias/i)
    expect(performance.now() - started).toBeLessThan(5000)
  })

  it('throws a ConfigError carrying the diagnostics', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'c.yaml'), MINIMAL.replace('epochs: 2', 'epochs: two'))
    expect(() => loadConfig(join(dir, 'c.yaml'))).toThrow(ConfigError)
  })
})

describe('--set overrides', () => {
  it('parses values as YAML and applies them', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'c.yaml'), MINIMAL)
    const {config} = loadConfig(join(dir, 'c.yaml'), ['optim.lr=0.01', 'model.channels=[8, 16]', 'optim.name=sgd', 'scheduler.name=step'])
    expect(config.optim).toMatchObject({lr: 0.01, name: 'sgd'})
    expect(config.model.channels).toEqual([8, 16])
    expect(config.scheduler.name).toBe('step')
  })

  it('names the flag in errors, with a suggestion for an unknown key', () => {
    expect(problems(MINIMAL, ['optim.lrr=0.1'])).toEqual(['--set optim.lrr=0.1: optim.lrr: unknown key "lrr" (did you mean optim.lr?)'])
    expect(problems(MINIMAL, ['optim.lr=-3'])).toEqual(['--set optim.lr=-3: optim.lr: must be > 0, found number -3'])
  })

  it('rejects a malformed flag', () => {
    expect(parseOverrides(['optim.lr']).diagnostics.map(formatDiagnostic)).toEqual(['--set optim.lr: expected KEY.PATH=VALUE (for example --set optim.lr=0.01)'])
    expect(parseOverrides(['=3', 'a..b=1']).diagnostics).toHaveLength(2)
  })
})

describe('extends', () => {
  it('deep-merges bases under the file: mappings merge, lists and scalars replace, later wins', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'base.yaml'), 'name: base\ntask: image-classification\noptim: {name: sgd, lr: 0.1, momentum: 0.5}\nmodel: {channels: [8, 16], dropout: 0.3}\ntags: [a, b]\n')
    writeFileSync(join(dir, 'wide.yaml'), 'model: {channels: [64, 128]}\ntrain: {epochs: 3}\n')
    mkdirSync(join(dir, 'exp'))
    writeFileSync(join(dir, 'exp', 'c.yaml'), 'extends: [../base.yaml, ../wide.yaml]\nname: child\noptim: {lr: 0.05}\ntags: [c]\n')
    const {config, files} = loadConfig(join(dir, 'exp', 'c.yaml'))
    expect(config.name).toBe('child')
    expect(config.optim).toEqual({name: 'sgd', lr: 0.05, momentum: 0.5, nesterov: false, weight_decay: 0})
    expect(config.model).toMatchObject({arch: 'cnn', channels: [64, 128], dropout: 0.3})
    expect(config.tags).toEqual(['c'])
    expect(config.train.epochs).toBe(3)
    expect(files.map((f) => f.split('/').slice(-2).join('/'))).toEqual([expect.stringMatching(/base\.yaml$/), expect.stringMatching(/wide\.yaml$/), 'exp/c.yaml'])
    expect('extends' in config).toBe(false)
  })

  it('points at the file that wrote a bad value, and at the --set that overrode one', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'base.yaml'), 'name: base\ntask: image-classification\ndata:\n  batch_size: -1\n')
    writeFileSync(join(dir, 'c.yaml'), 'extends: base.yaml\ntrain: {epochs: 0}\n')
    expect(problems(readFileSync(join(dir, 'c.yaml'), 'utf8').replace('base.yaml', join(dir, 'base.yaml')), ['data.val_fraction=2'])).toEqual([
      expect.stringMatching(/base\.yaml:4:15: data\.batch_size: must be >= 1, found number -1$/),
      'c.yaml:2:17: train.epochs: must be >= 1, found number 0',
      '--set data.val_fraction=2: data.val_fraction: must be < 1, found number 2',
    ])
  })
})

describe('environment references', () => {
  const withEnv = (vars: Record<string, string | undefined>, run: () => void) => {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
    Object.assign(process.env, vars)
    for (const [k, v] of Object.entries(vars)) if (v === undefined) delete process.env[k]
    try {
      run()
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
    }
  }

  it('replaces ${env:NAME}, uses the default form, parses a whole-value reference as YAML, keeps $${...} literal', () => {
    const dir = tempDir()
    writeFileSync(
      join(dir, 'c.yaml'),
      `${MINIMAL}description: "data in \${env:MLX_T_DIR} and $\${env:KEPT}"\ntags: ["\${env:MLX_T_TAG,fallback}"]\nseed: \${env:MLX_T_SEED}\nlaunch: {device: "\${env:MLX_T_DEVICE,cpu}"}\n`,
    )
    withEnv({MLX_T_DIR: '/data/x', MLX_T_SEED: '42', MLX_T_TAG: undefined, MLX_T_DEVICE: undefined}, () => {
      const {config} = loadConfig(join(dir, 'c.yaml'))
      expect(config.description).toBe('data in /data/x and ${env:KEPT}')
      expect(config.tags).toEqual(['fallback'])
      expect(config.seed).toBe(42)
      expect(config.launch.device).toBe('cpu')
    })
  })

  it('reports a missing variable at its position', () => {
    withEnv({MLX_T_MISSING: undefined}, () => {
      expect(problems(`${MINIMAL}description: "x \${env:MLX_T_MISSING} y"\n`)).toEqual([
        'c.yaml:7:14: description: environment variable MLX_T_MISSING is not set (set it, or give a default: ${env:MLX_T_MISSING,VALUE})',
      ])
    })
  })
})

describe('the resolved config', () => {
  it('decides every automatic goal and default monitor', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'c.yaml'), `${MINIMAL}scheduler: {name: plateau}\n`.replace('train: {epochs: 2}', 'train: {epochs: 2, early_stopping: {monitor: val/loss}}'))
    const {config} = loadConfig(join(dir, 'c.yaml'))
    expect(config.metrics).toEqual({primary: 'val/acc', goal: 'max'})
    expect(config.train.early_stopping).toEqual({monitor: 'val/loss', mode: 'min', patience: 5, min_delta: 0})
    expect(config.train.checkpoint).toMatchObject({monitor: 'val/acc', mode: 'max'})
    expect(config.scheduler).toMatchObject({name: 'plateau', monitor: 'val/loss', mode: 'min'})
  })

  it('keeps each optimiser to its own fields', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'c.yaml'), MINIMAL.replace('{name: adam, lr: 0.001}', '{name: sgd, nesterov: true}'))
    expect(loadConfig(join(dir, 'c.yaml')).config.optim).toEqual({name: 'sgd', lr: 0.01, momentum: 0.9, nesterov: true, weight_decay: 0})
    writeFileSync(join(dir, 'd.yaml'), MINIMAL.replace('optim: {name: adam, lr: 0.001}\n', ''))
    expect(loadConfig(join(dir, 'd.yaml')).config.optim).toEqual({name: 'adam', lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0})
  })
})
