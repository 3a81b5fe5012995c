/**
 * `mlx card RUN`: a model card after Mitchell et al. (2019), filled from what mlx knows of the run
 * (config, metrics, checkpoints, provenance, environment, figures, export) and from the config's
 * optional `card:` section for what only people know (intended use, limitations...); a section
 * nobody wrote says so. Its metrics carry 95% bootstrap intervals computed from the validation
 * predictions the run saved (python -m mlx_runtime.card), per class where it classifies.
 * Rendered as Markdown or as one self-contained HTML file (figures inlined).
 */
import {execa} from 'execa'
import {existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {dirname, extname, join, relative, resolve, sep} from 'node:path'
import {UserError} from '../errors.js'
import {runtimeEnv, type PythonChoice} from '../project/python.js'
import {shellWord} from '../shell.js'
import type {Store} from '../store/store.js'
import {formatBytes, formatNumber} from './numbers.js'
import {environmentFacts, showRun, type ShowResult} from './run-report.js'

export const CARD_FORMATS = ['markdown', 'html'] as const
export type CardFormat = (typeof CARD_FORMATS)[number]

/** What python -m mlx_runtime.card computes from predictions.npz. */
export interface PredictionFigures {
  kind: 'classification' | 'regression'
  examples: number
  resamples: number
  confidence: number
  metrics: Record<string, {value: number; low: number; high: number}>
  per_class?: Array<{class: string; support: number; precision: number; recall: number; f1: number; predicted: number}>
}

export interface CardMetric {
  key: string
  /** The run's own value (its last evaluation, as mlx show reports it). */
  logged: number | null
  best: number | null
  bestStep: number | null
  /** From the saved predictions of the final model: the value and its 95% bootstrap interval. */
  recomputed: number | null
  low: number | null
  high: number | null
}

export interface CardResult {
  id: string
  name: string
  out: string
  format: CardFormat
  metrics: CardMetric[]
  /** Null when the run saved no validation predictions (the card says why there are no intervals). */
  predictions: PredictionFigures | null
  /** The card's sections that fell back to "not stated". */
  notStated: string[]
}

type Block =
  | {kind: 'heading'; level: number; text: string}
  | {kind: 'paragraph'; text: string}
  | {kind: 'list'; items: string[]}
  | {kind: 'table'; head: string[]; rows: string[][]}
  | {kind: 'image'; alt: string; file: string}
  | {kind: 'code'; language: string; text: string}

const NOT_STATED = 'Not stated (add it to the `card:` section of the config).'

/** The config's card: section (src/core/config/sections.ts): what people write. */
type PeopleSection =
  | 'overview'
  | 'intended_use'
  | 'out_of_scope'
  | 'factors'
  | 'limitations'
  | 'ethical_considerations'
  | 'caveats'
  | 'authors'
  | 'license'

/** The run's card, written to `out` (default: card.md or card.html in the run's directory). */
export async function writeCard(
  store: Store,
  ref: string,
  python: PythonChoice,
  options: {out?: string; format?: CardFormat},
): Promise<CardResult> {
  const format = options.format ?? (options.out && extname(options.out).toLowerCase() === '.html' ? 'html' : 'markdown')
  const run = store.resolveRun(ref)
  if (run.status === 'running')
    throw new UserError(`run ${run.id} is still running`, 'write its card once it has ended')
  const checkpoints = ['best.pt', 'last.pt'].filter((name) => existsSync(join(run.runDir, 'checkpoints', name)))
  if (checkpoints.length === 0)
    throw new UserError(
      `run ${run.id} has no checkpoint (checkpoints/best.pt or last.pt): there is no model to describe`,
      'a card describes a trained model: train it to the end with mlx run (or mlx resume)',
    )
  const shown = showRun(store, run.id, 0)
  const predictions = await predictionFigures(run.runDir, python)
  const out = resolve(options.out ?? join(run.runDir, format === 'html' ? 'card.html' : 'card.md'))
  const {blocks, metrics, notStated} = cardBlocks(shown, store, predictions, checkpoints)
  const text =
    format === 'html'
      ? renderHtml(blocks, run.runDir, `Model card: ${run.name}`)
      : renderMarkdown(blocks, run.runDir, dirname(out))
  try {
    writeFileSync(out, text)
  } catch (error) {
    throw new UserError(
      `cannot write ${out}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      'choose another --out',
    )
  }
  return {id: run.id, name: run.name, out, format, metrics, predictions, notStated}
}

async function predictionFigures(runDir: string, python: PythonChoice): Promise<PredictionFigures | null> {
  const file = join(runDir, 'predictions.npz')
  if (!existsSync(file)) return null
  const result = await execa(python.command, ['-m', 'mlx_runtime.card', file], {env: runtimeEnv(), reject: false})
  if (result.exitCode !== 0)
    throw new UserError(
      `computing the intervals from ${file} failed: ${String(result.stderr).trim().split('\n').at(-1)}`,
      `the card needs scipy and scikit-learn in ${python.command} (make setup installs them)`,
    )
  return JSON.parse(String(result.stdout)) as PredictionFigures
}

function cardBlocks(
  r: ShowResult,
  store: Store,
  predictions: PredictionFigures | null,
  checkpoints: string[],
): {blocks: Block[]; metrics: CardMetric[]; notStated: string[]} {
  const people = ((r.config as {card?: Partial<Record<PeopleSection, string>>}).card ?? {}) as Partial<
    Record<PeopleSection, string>
  >
  const notStated: string[] = []
  const stated = (key: PeopleSection) => {
    if (people[key]) return people[key]!
    notStated.push(key)
    return NOT_STATED
  }
  const {env, git, gpus} = environmentFacts(r)
  const metric = (key: string) => r.metrics[key]?.last ?? null
  const start = store.events(r.id, true).findLast((event) => event.event === 'start')?.data ?? {}
  const sizes = Object.entries(start).filter(([key, value]) => /^(train|val)_/.test(key) && typeof value === 'number')
  const params = r.params
  const paramsUnder = (prefix: string) =>
    Object.entries(params)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => `${key} = ${JSON.stringify(value)}`)

  const blocks: Block[] = [
    {kind: 'heading', level: 1, text: `Model card: ${r.name} (${r.id})`},
    {kind: 'paragraph', text: stated('overview')},
    {kind: 'heading', level: 2, text: 'Model details'},
    {
      kind: 'list',
      items: [
        `Recipe: ${r.task}; trained ${r.startedAt}${r.durationSeconds === null ? '' : ` for ${formatNumber(r.durationSeconds)} s`}, status ${r.status}.`,
        `Architecture: ${paramsUnder('model.').join(', ') || 'your own script (task: script)'}.`,
        `Parameters: ${metric('cost/params') === null ? 'not recorded' : formatNumber(metric('cost/params'))}; size ${metric('cost/model_bytes') === null ? 'not recorded' : formatBytes(metric('cost/model_bytes')!)}.`,
        `Checkpoints: ${checkpoints
          .map((name) => `checkpoints/${name} (${formatBytes(statSync(join(r.runDir, 'checkpoints', name)).size)})`)
          .join(', ')}; the metrics below with intervals are the final model's (last.pt).`,
        `Code: ${git.commit ? `git ${git.commit}${git.dirty ? ' with uncommitted changes (dirty)' : ' (clean)'}` : 'not in a git repository'}.`,
        `Environment: Python ${String(env.python ?? '?')}, torch ${String(env.torch ?? '?')}, CUDA ${String(env.cuda_version ?? 'none')}, GPUs ${gpus}, on ${String(env.host ?? '?')}.`,
        `Training: ${paramsUnder('optim.').join(', ')}; ${paramsUnder('train.epochs').join(', ')}; seed ${JSON.stringify(params.seed)}.`,
        `Authors: ${stated('authors')}`,
        `License: ${stated('license')}`,
      ],
    },
    {kind: 'heading', level: 2, text: 'Intended use'},
    {kind: 'paragraph', text: stated('intended_use')},
    {kind: 'heading', level: 3, text: 'Out-of-scope uses'},
    {kind: 'paragraph', text: stated('out_of_scope')},
    {kind: 'heading', level: 2, text: 'Factors'},
    {kind: 'paragraph', text: stated('factors')},
  ]

  const metrics = cardMetrics(r, predictions)
  const disagreeing = metrics.filter(
    (m) =>
      m.recomputed !== null &&
      m.logged !== null &&
      Math.abs(m.recomputed - m.logged) > 1e-9 * Math.max(1, Math.abs(m.logged)),
  )
  blocks.push({kind: 'heading', level: 2, text: 'Metrics'})
  blocks.push({
    kind: 'paragraph',
    text: predictions
      ? `Selected on ${r.primary.key} (${r.primary.goal === 'min' ? 'lower' : 'higher'} is better). Intervals: 95% percentile bootstrap over the ${predictions.examples} validation examples (${predictions.resamples} resamples, examples and predictions resampled together), from the final model's saved predictions. ${
          disagreeing.length === 0
            ? "The values from those predictions equal the run's last evaluation."
            : `From those predictions ${disagreeing.map((m) => `${m.key} is ${formatNumber(m.recomputed)}`).join(', ')}, not the logged value: the run's last evaluation was not of its final model.`
        }`
      : `Selected on ${r.primary.key}. No intervals: this run saved no validation predictions (predictions.npz; the image, text and tabular recipes save them), so only the logged values are shown.`,
  })
  blocks.push({
    kind: 'table',
    head: ['metric', 'value (last evaluation)', '95% interval', 'best (step)'],
    rows: metrics.map((m) => [
      m.key,
      formatNumber(m.logged),
      m.low === null ? '' : `${formatNumber(m.low)} to ${formatNumber(m.high)}`,
      m.best === null ? '' : `${formatNumber(m.best)} (${m.bestStep})`,
    ]),
  })

  blocks.push({kind: 'heading', level: 2, text: 'Evaluation data'})
  blocks.push({
    kind: 'list',
    items: [
      `Source: ${
        paramsUnder('data.')
          .filter((line) => /^data\.(source|path|val_path|directory|env|manifest|topics|kind|target)\b/.test(line))
          .join(', ') || 'as your script reads it'
      }.`,
      `Split: ${
        paramsUnder('data.')
          .filter((line) => /^data\.(val_fraction|val_rows|folds|fold)\b/.test(line))
          .join(', ') || "your script's"
      }; seed ${JSON.stringify(params.seed)} (the same split on every run of this seed). This is the split the model was selected on, not a held-out test set.`,
      ...sizes
        .filter(([key]) => key.startsWith('val_'))
        .map(([key, value]) => `${key.replace('_', ' ')}: ${String(value)}.`),
      ...(predictions?.per_class
        ? [`Class balance (validation): ${predictions.per_class.map((c) => `${c.class} ${c.support}`).join(', ')}.`]
        : []),
    ],
  })
  blocks.push({kind: 'heading', level: 2, text: 'Training data'})
  blocks.push({
    kind: 'list',
    items: [
      'The rest of the same source (the split above).',
      ...sizes
        .filter(([key]) => key.startsWith('train_'))
        .map(([key, value]) => `${key.replace('_', ' ')}: ${String(value)}.`),
      `Preprocessing and augmentation: ${paramsUnder('data.transforms.').concat(paramsUnder('data.tokenizer.'), paramsUnder('data.features.')).join(', ') || "the recipe's defaults"}.`,
    ],
  })

  blocks.push({kind: 'heading', level: 2, text: 'Quantitative analyses'})
  if (predictions?.per_class) {
    blocks.push({kind: 'paragraph', text: 'Per class, on the validation set (final model):'})
    blocks.push({
      kind: 'table',
      head: ['class', 'support', 'predicted', 'precision', 'recall', 'F1'],
      rows: predictions.per_class.map((c) => [
        c.class,
        String(c.support),
        String(c.predicted),
        formatNumber(c.precision),
        formatNumber(c.recall),
        formatNumber(c.f1),
      ]),
    })
  }
  const figures = r.artifacts.filter((artifact) => extname(artifact.path).toLowerCase() === '.png')
  for (const figure of figures) blocks.push({kind: 'image', alt: figure.path, file: figure.path})
  if (!predictions?.per_class && figures.length === 0)
    blocks.push({kind: 'paragraph', text: 'The run saved no figures.'})

  blocks.push({kind: 'heading', level: 2, text: 'Serving: export and latency'})
  if (r.export) {
    blocks.push({
      kind: 'paragraph',
      text: `mlx export of ${r.export.checkpoint} (step ${r.export.step}), ${r.export.at}: parity with eager PyTorch on validation examples, tolerance ${r.export.tolerance}.`,
    })
    const latency = (key: string, form: string) => formatNumber(metric(`cost/${key}/${form}`))
    blocks.push({
      kind: 'table',
      head: ['form', 'parity', 'max abs difference', 'batch 1 p50 ms', 'batch 1 p95 ms', 'throughput (rows/s)'],
      rows: ['eager', ...Object.keys(r.export.formats)].map((form) => {
        const verdict = r.export!.formats[form]
        return [
          form,
          form === 'eager' ? 'reference' : verdict?.error ? 'failed to export' : verdict?.ok ? 'ok' : 'DIFFERS',
          form === 'eager' || !verdict || verdict.error ? '' : formatNumber(Number(verdict.max_abs)),
          latency('latency_ms_b1', form),
          latency('latency_p95_ms_b1', form),
          latency('throughput', form),
        ]
      }),
    })
  } else
    blocks.push({
      kind: 'paragraph',
      text: `Not exported yet: mlx export ${r.id} checks ONNX, TorchScript and torch.export against the model and times them.`,
    })
  const trainCost = [
    ['cost/train_seconds', 'training time (s)'],
    ['cost/samples_per_sec', 'training samples/s'],
    ['cost/peak_memory_bytes', 'peak memory'],
  ].flatMap(([key, label]) =>
    metric(key!) === null
      ? []
      : [`${label}: ${key === 'cost/peak_memory_bytes' ? formatBytes(metric(key!)!) : formatNumber(metric(key!))}`],
  )
  if (trainCost.length > 0) blocks.push({kind: 'paragraph', text: `Training cost: ${trainCost.join('; ')}.`})

  blocks.push({kind: 'heading', level: 2, text: 'Limitations'})
  blocks.push({kind: 'paragraph', text: stated('limitations')})
  blocks.push({kind: 'heading', level: 2, text: 'Ethical considerations'})
  blocks.push({kind: 'paragraph', text: stated('ethical_considerations')})
  blocks.push({kind: 'heading', level: 2, text: 'Caveats and recommendations'})
  blocks.push({kind: 'paragraph', text: stated('caveats')})

  blocks.push({kind: 'heading', level: 2, text: 'How to reproduce'})
  const provenance = r.provenance
  blocks.push({
    kind: 'list',
    items: [
      `The run's exact resolved config, as a new run: mlx run --from ${r.id}`,
      ...(provenance
        ? [
            `As it was started: ${provenance.argv.map(shellWord).join(' ')} (config ${provenance.configFile}${provenance.configSha256 ? `, sha256 ${provenance.configSha256}` : ''}${provenance.overrides.length > 0 ? `; overrides ${provenance.overrides.join(' ')}` : ''})`,
          ]
        : []),
      `Code: ${git.commit ? `git checkout ${git.commit}${git.dirty ? ' (the run had uncommitted changes: provenance.json says where they were saved)' : ''}` : 'no git commit recorded'}.`,
    ],
  })
  const configFile = join(r.runDir, 'config.yaml')
  if (existsSync(configFile)) blocks.push({kind: 'code', language: 'yaml', text: readFileSync(configFile, 'utf8')})
  return {blocks, metrics, notStated}
}

/** The metrics a card reports: those the predictions give intervals for, else the run's primary and evaluation metrics. */
function cardMetrics(r: ShowResult, predictions: PredictionFigures | null): CardMetric[] {
  const withIntervals = Object.keys(predictions?.metrics ?? {})
  const logged = Object.keys(r.metrics).filter(
    (key) => (key === r.primary.key || key.startsWith('val/')) && !withIntervals.includes(key),
  )
  return [...withIntervals, ...logged].map((key) => {
    const cell = r.metrics[key]
    const figures = predictions?.metrics[key]
    return {
      key,
      logged: cell?.last ?? null,
      best: cell?.best ?? null,
      bestStep: cell?.bestStep ?? null,
      recomputed: figures?.value ?? null,
      low: figures?.low ?? null,
      high: figures?.high ?? null,
    }
  })
}

function markdownCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

function renderMarkdown(blocks: Block[], runDir: string, outDir: string): string {
  const out: string[] = []
  for (const block of blocks) {
    switch (block.kind) {
      case 'heading':
        out.push(`${'#'.repeat(block.level)} ${block.text}`, '')
        break
      case 'paragraph':
        out.push(block.text, '')
        break
      case 'list':
        out.push(...block.items.map((item) => `- ${item}`), '')
        break
      case 'table':
        out.push(
          `| ${block.head.map(markdownCell).join(' | ')} |`,
          `| ${block.head.map(() => '---').join(' | ')} |`,
          ...block.rows.map((row) => `| ${row.map(markdownCell).join(' | ')} |`),
          '',
        )
        break
      case 'image': {
        const path = relative(outDir, join(runDir, block.file)).split(sep).join('/')
        out.push(`![${block.alt}](${encodeURI(path)})`, '')
        break
      }
      case 'code':
        out.push('```' + block.language, block.text.trimEnd(), '```', '')
        break
      default: {
        const unreachable: never = block
        return unreachable
      }
    }
  }
  return out.join('\n')
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
}

function renderHtml(blocks: Block[], runDir: string, title: string): string {
  const body: string[] = []
  for (const block of blocks) {
    switch (block.kind) {
      case 'heading':
        body.push(`<h${block.level}>${escapeHtml(block.text)}</h${block.level}>`)
        break
      case 'paragraph':
        body.push(`<p>${escapeHtml(block.text)}</p>`)
        break
      case 'list':
        body.push(`<ul>${block.items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ul>`)
        break
      case 'table':
        body.push(
          `<table><thead><tr>${block.head.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('')}</tr></thead><tbody>${block.rows
            .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
            .join('')}</tbody></table>`,
        )
        break
      case 'image': {
        // Inlined: the card is one file that opens anywhere.
        const data = readFileSync(join(runDir, block.file)).toString('base64')
        body.push(
          `<figure><img alt="${escapeHtml(block.alt)}" src="data:image/png;base64,${data}"><figcaption>${escapeHtml(block.alt)}</figcaption></figure>`,
        )
        break
      }
      case 'code':
        body.push(`<pre><code>${escapeHtml(block.text)}</code></pre>`)
        break
      default: {
        const unreachable: never = block
        return unreachable
      }
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}img{max-width:100%}pre{background:#f6f6f6;padding:.75rem;overflow:auto}</style>
</head><body>
${body.join('\n')}
</body></html>
`
}
