#!/usr/bin/env node
// Start-up, as ratios and differences measured interleaved in one run:
// - `mlx --version` against `node -e 0` (goal: at most 2.5x);
// - how long `mlx run` takes to its first logged training step against `python train.py` of the
//   same generated script, started by hand with the same config (goal: at most 0.3 s more).
// Prints a Markdown section. ROUNDS (default 15) and RUN_ROUNDS (default 11) size it.
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = fileURLToPath(new URL('..', import.meta.url))
const bin = join(repo, 'bin/run.js')
const python = join(repo, '.venv/bin/python')
const rounds = Number(process.env.ROUNDS ?? 15)
const runRounds = Number(process.env.RUN_ROUNDS ?? 11)
const env = {...process.env, NODE_ENV: 'production', NO_COLOR: '1'}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

function wall(command, args) {
  const start = process.hrtime.bigint()
  const result = spawnSync(command, args, {env, stdio: 'ignore'})
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`)
  return Number(process.hrtime.bigint() - start) / 1e6
}

/** Milliseconds from starting `command` until `metricsFile` holds a metrics line; waits for the process to end. */
function untilFirstStep(command, args, options, metricsFile) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint()
    let first
    const child = spawn(command, args, {...options, stdio: 'ignore'})
    const poll = setInterval(() => {
      const file = metricsFile()
      if (first === undefined && file && existsSync(file) && readFileSync(file, 'utf8').includes('"kind":"metrics"'))
        first = Number(process.hrtime.bigint() - start) / 1e6
    }, 2)
    child.on('exit', (code) => {
      clearInterval(poll)
      if (code !== 0 || first === undefined) reject(new Error(`${command} exited ${code} (first step: ${first})`))
      else resolve(first)
    })
  })
}

const versions = {node: [], mlx: []}
for (let round = 0; round < rounds; round++) {
  versions.node.push(wall('node', ['-e', '0']))
  versions.mlx.push(wall('node', [bin, '--version']))
}

const project = mkdtempSync(join(tmpdir(), 'mlx-startup-'))
writeFileSync(join(project, 'mlx.yaml'), '')
writeFileSync(
  join(project, 'c.yaml'),
  'name: startup\ntask: image-classification\ndata: {source: digits, batch_size: 64}\nmodel: {arch: cnn}\noptim: {name: adam, lr: 0.001}\ntrain: {epochs: 1, log_every: 1}\n',
)
const runs = join(project, '.mlx', 'runs')
const newestRun = () =>
  existsSync(runs)
    ? readdirSync(runs)
        .map((id) => join(runs, id))
        .find((dir) => !seen.has(dir))
    : undefined
const seen = new Set()
const mlxRun = async () => {
  const ms = await untilFirstStep('node', [bin, 'run', 'c.yaml'], {cwd: project, env}, () => {
    const dir = newestRun()
    return dir && join(dir, 'metrics.jsonl')
  })
  seen.add(newestRun())
  return ms
}
// The script mlx generated, run as its header says a person runs it by hand.
await mlxRun()
const script = [...seen][0]
const byHand = join(project, 'by-hand')
const handRun = () => {
  rmSync(byHand, {recursive: true, force: true})
  const metrics = join(byHand, 'metrics.jsonl')
  return untilFirstStep(
    python,
    [join(script, 'train.py'), '--config', join(script, 'config.json')],
    {cwd: project, env: {...env, PYTHONPATH: join(repo, 'python'), MLX_RUN_DIR: byHand, MLX_METRICS_FILE: metrics}},
    () => metrics,
  )
}
const first = {mlx: [], hand: []}
for (let round = 0; round < runRounds; round++) {
  // Each goes first in half the rounds: the machine's speed drifts.
  const order = round % 2 === 0 ? ['mlx', 'hand'] : ['hand', 'mlx']
  for (const who of order) first[who].push(who === 'mlx' ? await mlxRun() : await handRun())
}

const nodeMs = median(versions.node)
const mlxMs = median(versions.mlx)
const ratio = mlxMs / nodeMs
const differences = first.mlx.map((ms, i) => ms - first.hand[i])
const difference = median(differences)
console.log('## Start-up (bench/startup.mjs)')
console.log()
console.log(
  `\`mlx --version\` and \`node -e 0\` alternated, ${rounds} rounds, medians. The first logged step: \`mlx run\` of the`,
)
console.log(
  'minimal digits config (`train.log_every: 1`) until its metrics.jsonl holds a metrics line, against the same',
)
console.log(
  `generated train.py started by hand with the same config, ${runRounds} rounds, each first in half of them; the`,
)
console.log("difference is the median of the rounds' differences.")
console.log()
console.log('| measure | value | goal | met |')
console.log('|---|---:|---:|:---:|')
console.log(`| \`node -e 0\` | ${nodeMs.toFixed(0)} ms | | |`)
console.log(
  `| \`mlx --version\` | ${mlxMs.toFixed(0)} ms (${ratio.toFixed(2)}x node -e 0) | <= 2.5x | ${ratio <= 2.5 ? 'yes' : '**no**'} |`,
)
console.log(`| \`python train.py\` to its first logged step | ${median(first.hand).toFixed(0)} ms | | |`)
console.log(`| \`mlx run\` to the same step | ${median(first.mlx).toFixed(0)} ms | | |`)
console.log(
  `| \`mlx run\` over \`python train.py\` | ${difference >= 0 ? '+' : ''}${(difference / 1000).toFixed(2)} s (rounds: ${differences.map((d) => `${d >= 0 ? '+' : ''}${(d / 1000).toFixed(2)}`).join(', ')}) | <= +0.3 s | ${difference <= 300 ? 'yes' : '**no**'} |`,
)
rmSync(project, {recursive: true, force: true})
