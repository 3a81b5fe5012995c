import {execFileSync} from 'node:child_process'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {checkConfig, loadConfig, parseOverrides} from '../../src/core/config/load.js'
import {ConfigError, formatDiagnostic} from '../../src/core/errors.js'
import type {ExperimentConfig} from '../../src/core/config/schema.js'
import {tempDir} from '../helpers/cli.js'
import {MINIMAL_CONFIG} from '../helpers/process.js'

const MINIMAL = MINIMAL_CONFIG

type ImageConfig = Extract<ExperimentConfig, {task: 'image-classification'}>

/** loadConfig for an image-classification config, typed as one (MINIMAL is one). */
function loadImageConfig(
  ...args: Parameters<typeof loadConfig>
): ReturnType<typeof loadConfig> & {config: ImageConfig} {
  const loaded = loadConfig(...args)
  expect(loaded.config.task).toBe('image-classification')
  return loaded as ReturnType<typeof loadConfig> & {config: ImageConfig}
}

function problems(text: string, sets: string[] = []): string[] {
  const dir = tempDir()
  const file = join(dir, 'c.yaml')
  writeFileSync(file, text)
  const result = checkConfig(file, sets)
  if (!('diagnostics' in result)) return []
  return result.diagnostics.map((d) => formatDiagnostic(d).replace(dir + '/', ''))
}

describe('loading configs', () => {
  it('fills every default in the minimal config of docs/config.md', () => {
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
    expect(problems(MINIMAL.replace('lr: 0.001', 'lr: fast'))).toEqual([
      'c.yaml:5:25: optim.lr: expected number, found the string "fast"',
    ])
  })

  it('reports an unknown key at the key itself, with a suggestion', () => {
    expect(problems(MINIMAL.replace('train: {epochs: 2}', 'train:\n  epochs: 2\n  epoks: 3'))).toEqual([
      'c.yaml:8:3: train.epoks: unknown key "epoks" (did you mean train.epochs?)',
    ])
  })

  it('reports every problem at once', () => {
    const text = MINIMAL.replace('lr: 0.001', 'lr: -1')
      .replace('batch_size: 64', 'batch_size: 0')
      .replace('{arch: cnn}', '{arch: cnn, depth: 3}')
    expect(problems(text)).toEqual([
      'c.yaml:3:36: data.batch_size: must be >= 1, found number 0',
      'c.yaml:4:20: model.depth: unknown key "depth" (known keys: arch, channels, hidden, dropout, pretrained, freeze, unfreeze_at_epoch)',
      'c.yaml:5:25: optim.lr: must be > 0, found number -1',
    ])
  })

  it('explains whole numbers and list lengths', () => {
    expect(
      problems(
        MINIMAL.replace('batch_size: 64', 'batch_size: 6.5').replace('{arch: cnn}', '{arch: cnn, channels: [8]}'),
      ),
    ).toEqual([
      'c.yaml:3:36: data.batch_size: expected a whole number, found 6.5',
      'c.yaml:4:30: model.channels: must have at least 2 items, found a list of 1',
    ])
  })

  it('suggests the near enum value', () => {
    expect(problems(MINIMAL.replace('name: adam', 'name: adamm'))).toEqual([
      'c.yaml:5:15: optim.name: "adamm" is not one of adam, adamw, sgd (did you mean adam?)',
    ])
  })

  it('names the tasks for an unknown task', () => {
    expect(problems(MINIMAL.replace('task: image-classification', 'task: image-clasification'))).toEqual([
      'c.yaml:2:7: task: unknown task "image-clasification"; expected one of image-classification, tabular, text-classification, speech-recognition, rl-dqn, recsys-dlrm, script (did you mean image-classification?)',
    ])
  })

  it('points a missing required field at its parent', () => {
    expect(problems(MINIMAL.replace('name: digits-cnn\n', ''))).toEqual([
      'c.yaml:1:1: name: required string is missing',
    ])
  })

  it('refuses an empty file, a list, a scalar, and several documents', () => {
    expect(problems('')).toEqual([expect.stringMatching(/^c\.yaml:1:1: file is empty/)])
    expect(problems('- a\n- b\n')).toEqual([
      expect.stringMatching(/^c\.yaml:1:1: expected a mapping of sections at the top level, found a list/),
    ])
    expect(problems('42\n')).toEqual([expect.stringMatching(/found the scalar 42/)])
    expect(problems(`${MINIMAL}---\n${MINIMAL}`)).toEqual([
      expect.stringMatching(/^c\.yaml:7:1: a config is one YAML document; this file holds several/),
    ])
  })

  it('refuses duplicate keys and tabs', () => {
    expect(problems(`${MINIMAL}seed: 1\nseed: 2\n`)).toEqual([
      expect.stringMatching(/^c\.yaml:8:1: this key appears twice/),
    ])
    expect(problems('name: x\ntask: image-classification\ndata:\n\tbatch_size: 3\n')[0]).toMatch(
      /^c\.yaml:4:1: a tab is used for indentation/,
    )
  })

  it('reports a missing file, a directory, non-UTF-8 bytes (where they are) and an oversized file', () => {
    const dir = tempDir()
    expect(formatDiagnostic((checkConfig(join(dir, 'nope.yaml')) as {diagnostics: never[]}).diagnostics[0]!)).toMatch(
      /nope\.yaml:1:1: file not found/,
    )
    mkdirSync(join(dir, 'folder.yaml'))
    expect(formatDiagnostic((checkConfig(join(dir, 'folder.yaml')) as {diagnostics: never[]}).diagnostics[0]!)).toMatch(
      /folder\.yaml:1:1: is a directory/,
    )
    writeFileSync(join(dir, 'latin1.yaml'), Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xe9, 0x0a]))
    expect(formatDiagnostic((checkConfig(join(dir, 'latin1.yaml')) as {diagnostics: never[]}).diagnostics[0]!)).toMatch(
      /latin1\.yaml:1:7: file is not valid UTF-8/,
    )
    writeFileSync(join(dir, 'big.yaml'), `# ${'x'.repeat(1024 * 1024)}\n`)
    expect(formatDiagnostic((checkConfig(join(dir, 'big.yaml')) as {diagnostics: never[]}).diagnostics[0]!)).toMatch(
      /big\.yaml:1:1: file is \d+ bytes; a config may be at most 1 MiB/,
    )
  })

  it('refuses an alias bomb quickly', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for (let i = 1; i < 9; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      )
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
    const {config} = loadImageConfig(join(dir, 'c.yaml'), [
      'optim.lr=0.01',
      'model.channels=[8, 16]',
      'optim.name=sgd',
      'scheduler.name=step',
    ])
    expect(config.optim).toMatchObject({lr: 0.01, name: 'sgd'})
    expect(config.model.channels).toEqual([8, 16])
    expect(config.scheduler.name).toBe('step')
  })

  it('names the flag in errors, with a suggestion for an unknown key', () => {
    expect(problems(MINIMAL, ['optim.lrr=0.1'])).toEqual([
      '--set optim.lrr=0.1: optim.lrr: unknown key "lrr" (did you mean optim.lr?)',
    ])
    expect(problems(MINIMAL, ['optim.lr=-3'])).toEqual(['--set optim.lr=-3: optim.lr: must be > 0, found number -3'])
  })

  it('rejects a malformed flag', () => {
    expect(parseOverrides(['optim.lr']).diagnostics.map(formatDiagnostic)).toEqual([
      '--set optim.lr: expected KEY.PATH=VALUE (for example --set optim.lr=0.01)',
    ])
    expect(parseOverrides(['=3', 'a..b=1']).diagnostics).toHaveLength(2)
  })
})

describe('extends', () => {
  it('deep-merges bases under the file: mappings merge, lists and scalars replace, later wins', () => {
    const dir = tempDir()
    writeFileSync(
      join(dir, 'base.yaml'),
      'name: base\ntask: image-classification\noptim: {name: sgd, lr: 0.1, momentum: 0.5}\nmodel: {channels: [8, 16], dropout: 0.3}\ntags: [a, b]\n',
    )
    writeFileSync(join(dir, 'wide.yaml'), 'model: {channels: [64, 128]}\ntrain: {epochs: 3}\n')
    mkdirSync(join(dir, 'exp'))
    writeFileSync(
      join(dir, 'exp', 'c.yaml'),
      'extends: [../base.yaml, ../wide.yaml]\nname: child\noptim: {lr: 0.05}\ntags: [c]\n',
    )
    const {config, files} = loadImageConfig(join(dir, 'exp', 'c.yaml'))
    expect(config.name).toBe('child')
    expect(config.optim).toEqual({name: 'sgd', lr: 0.05, momentum: 0.5, nesterov: false, weight_decay: 0})
    expect(config.model).toMatchObject({arch: 'cnn', channels: [64, 128], dropout: 0.3})
    expect(config.tags).toEqual(['c'])
    expect(config.train.epochs).toBe(3)
    expect(files.map((f) => f.split('/').slice(-2).join('/'))).toEqual([
      expect.stringMatching(/base\.yaml$/),
      expect.stringMatching(/wide\.yaml$/),
      'exp/c.yaml',
    ])
    expect('extends' in config).toBe(false)
  })

  it('points at the file that wrote a bad value, and at the --set that overrode one', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'base.yaml'), 'name: base\ntask: image-classification\ndata:\n  batch_size: -1\n')
    writeFileSync(join(dir, 'c.yaml'), 'extends: base.yaml\ntrain: {epochs: 0}\n')
    expect(
      problems(readFileSync(join(dir, 'c.yaml'), 'utf8').replace('base.yaml', join(dir, 'base.yaml')), [
        'data.val_fraction=2',
      ]),
    ).toEqual([
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
    writeFileSync(
      join(dir, 'c.yaml'),
      `${MINIMAL}scheduler: {name: plateau}\n`.replace(
        'train: {epochs: 2}',
        'train: {epochs: 2, early_stopping: {monitor: val/loss}}',
      ),
    )
    const {config} = loadImageConfig(join(dir, 'c.yaml'))
    expect(config.metrics).toEqual({primary: 'val/acc', goal: 'max'})
    expect(config.train.early_stopping).toEqual({monitor: 'val/loss', mode: 'min', patience: 5, min_delta: 0})
    expect(config.train.checkpoint).toMatchObject({monitor: 'val/acc', mode: 'max'})
    expect(config.scheduler).toMatchObject({name: 'plateau', monitor: 'val/loss', mode: 'min'})
  })

  it('keeps each optimiser to its own fields', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'c.yaml'), MINIMAL.replace('{name: adam, lr: 0.001}', '{name: sgd, nesterov: true}'))
    expect(loadImageConfig(join(dir, 'c.yaml')).config.optim).toEqual({
      name: 'sgd',
      lr: 0.01,
      momentum: 0.9,
      nesterov: true,
      weight_decay: 0,
    })
    writeFileSync(join(dir, 'd.yaml'), MINIMAL.replace('optim: {name: adam, lr: 0.001}\n', ''))
    expect(loadImageConfig(join(dir, 'd.yaml')).config.optim).toEqual({
      name: 'adam',
      lr: 0.001,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weight_decay: 0,
    })
  })
})

describe('hostile input: every problem a diagnostic with its position, nothing polluted, nothing hangs', () => {
  const polluted = () => ({}) as Record<string, unknown>

  it('a __proto__ key, in a file or a --set, is an unknown key at its position; no object gains a property', () => {
    expect(problems('name: x\ntask: image-classification\n__proto__:\n  polluted: 1\n')).toEqual([
      'c.yaml:3:1: __proto__: unknown key "__proto__" (known keys: extends, name, task, description, tags, seed, sweep, card, data, model, loss, metrics, optim, scheduler, train, launch, analysis)',
    ])
    expect(problems(`${MINIMAL}optim2: {__proto__: {lr: 1}}\n`)[0]).toMatch(
      /^c\.yaml:7:1: optim2: unknown key "optim2"/,
    )
    expect(
      problems(MINIMAL.replace('optim: {name: adam, lr: 0.001}', 'optim: {name: adam, __proto__: {polluted: 1}}')),
    ).toEqual([expect.stringMatching(/^c\.yaml:5:\d+: optim\.__proto__: unknown key "__proto__"/)])
    expect(problems(MINIMAL, ['__proto__.polluted=1'])).toEqual([
      expect.stringMatching(/^--set __proto__\.polluted=1: __proto__: unknown key "__proto__"/),
    ])
    expect(problems(MINIMAL, ['data.__proto__.polluted=1'])).toEqual([
      expect.stringMatching(/^--set data\.__proto__\.polluted=1: data\.__proto__: unknown key "__proto__"/),
    ])
    expect(problems(MINIMAL, ['constructor.prototype.polluted=1'])).toEqual([
      expect.stringMatching(/^--set constructor\.prototype\.polluted=1: constructor: unknown key "constructor"/),
    ])
    expect(polluted().polluted).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('polluted')
  })

  it('--set indexes a list by position, and never turns a list into a mapping', () => {
    const file = MINIMAL.replace('model: {arch: cnn}', 'model: {arch: cnn, channels: [4, 8]}')
    const dir = tempDir()
    writeFileSync(join(dir, 'c.yaml'), file)
    expect(loadImageConfig(join(dir, 'c.yaml'), ['model.channels.1=16']).config.model.channels).toEqual([4, 16])
    writeFileSync(join(dir, 'tags.yaml'), `${MINIMAL}tags: [a, b]\n`)
    expect(loadConfig(join(dir, 'tags.yaml'), ['tags.2=c']).config.tags).toEqual(['a', 'b', 'c'])
    expect(problems(file, ['model.channels.5=8'])).toEqual([
      '--set model.channels.5=8: model.channels.5: model.channels has 2 items: position 5 is past its end (positions run from 0 to 2 (2 appends))',
    ])
    expect(problems(file, ['model.channels.x=8'])).toEqual([
      expect.stringMatching(
        /^--set model\.channels\.x=8: model\.channels\.x: model\.channels is a list: a position \(0, 1, \.\.\.\) comes after it, not "x"/,
      ),
    ])
    // The file leaves the list to its default: no list to index, said on the flag.
    expect(problems(MINIMAL, ['model.channels.0=8'])).toEqual([
      expect.stringMatching(
        /^--set model\.channels\.0=8: model\.channels\.0: model\.channels is a list that the config leaves to its default/,
      ),
    ])
  })

  it('blames the --set that made a value, even where the file wrote none of it', () => {
    expect(problems(MINIMAL, ['data.transforms.resize.x=1'])).toEqual([
      expect.stringMatching(/^--set data\.transforms\.resize\.x=1: data\.transforms\.resize: /),
    ])
    expect(problems(MINIMAL, ['optim.name=bogus'])).toEqual([
      expect.stringMatching(/^--set optim\.name=bogus: optim\.name: "bogus" is not one of adam, adamw, sgd/),
    ])
  })

  it('an environment reference left open is an error at its position, not kept as text', () => {
    expect(problems(`${MINIMAL}description: "from \${env:HOME"\n`)).toEqual([
      'c.yaml:7:14: description: an environment reference ${env:... is not closed with } (write ${env:NAME} or ${env:NAME,default}; $${env:...} stands for the text itself)',
    ])
    expect(problems(`${MINIMAL}description: "cost: $\${env:HOME"\n`)).toEqual([])
  })

  it('--name follows the name rule of the config, said on the flag', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'c.yaml'), MINIMAL)
    const named = (name: string) => {
      const result = checkConfig(join(dir, 'c.yaml'), [], {name})
      return 'diagnostics' in result ? result.diagnostics.map(formatDiagnostic) : result.config.name
    }
    expect(named('lr 0.01 (try 2)')).toBe('lr 0.01 (try 2)')
    for (const bad of ['', 'x\ntouch owned #', '../x', ' leading', 'tab\there', 'x'.repeat(201)]) {
      expect(named(bad), JSON.stringify(bad)).toEqual([expect.stringMatching(/^--name ".*: name: /)])
    }
  })

  it('echoes no more than a short excerpt of a huge value, key or flag', () => {
    const huge = 'x'.repeat(1_000_000)
    const lines = [
      ...problems(MINIMAL.replace('adam,', `${huge},`)),
      ...problems(MINIMAL.replace('optim: {', `optim: {${huge}: 1, `)),
      ...problems(MINIMAL, [`optim.name=${huge}`]),
      ...problems(MINIMAL, [`${huge}=1`]),
      ...problems(MINIMAL.replace('task: image-classification', `task: ${huge}`)),
      ...problems(`${huge}\n`),
    ]
    expect(lines).toHaveLength(6)
    for (const line of lines) expect(line.length, line.slice(0, 200)).toBeLessThan(700)
  })

  it('refuses a FIFO, a device and a base that is one, at once, without reading them', () => {
    const dir = tempDir()
    execFileSync('mkfifo', [join(dir, 'fifo.yaml')])
    writeFileSync(join(dir, 'c.yaml'), `extends: /dev/zero\n${MINIMAL}`)
    const started = Date.now()
    expect(problems(readFileSync(join(dir, 'c.yaml'), 'utf8'))).toEqual([
      expect.stringMatching(
        /dev\/zero:1:1: is not a regular file \(a pipe, a device or a socket\) \(give the path of a \.yaml file\)$/,
      ),
    ])
    for (const file of [join(dir, 'fifo.yaml'), '/dev/zero', '/dev/urandom']) {
      const result = checkConfig(file) as {diagnostics: Array<{message: string}>}
      expect(result.diagnostics.map((d) => d.message)).toEqual(['is not a regular file (a pipe, a device or a socket)'])
    }
    expect(Date.now() - started).toBeLessThan(10_000)
  })
})
