import {Box, Text, useStdout} from 'ink'
import {formatDuration, formatNumber} from '../../core/report/numbers.js'
import {headlineText, type Progress} from '../../core/metrics/progress.js'
import {theme} from '../theme.js'

const BAR_WIDTH = 30
/** The narrowest bar still worth drawing: below it, the line drops the bar, not the numbers. */
const MIN_BAR_WIDTH = 5

export interface RunHeader {
  id: string
  name: string
  task: string
  python: string
}

export function progressBar(fraction: number, size = BAR_WIDTH): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * size)
  return '█'.repeat(filled) + '░'.repeat(size - filled)
}

/** The bar's width on a line of `columns` cells whose other text takes `rest`: 30, less on a narrow terminal, 0 when too narrow. */
export function barWidth(columns: number, rest: number): number {
  const room = columns - rest - 1
  return room >= MIN_BAR_WIDTH ? Math.min(BAR_WIDTH, room) : 0
}

export function RunProgress({header, progress}: {header: RunHeader; progress: Progress}) {
  const {stdout} = useStdout()
  const fraction = progress.totalSteps
    ? progress.step / progress.totalSteps
    : progress.epochs
      ? progress.epoch / progress.epochs
      : 0
  const epochs = progress.epochs === null ? '?' : String(progress.epochs)
  const steps = progress.totalSteps === null ? String(progress.step) : `${progress.step}/${progress.totalSteps}`
  const epoch = `epoch ${Math.min(progress.epoch + 1, progress.epochs ?? Infinity)}/${epochs} `
  const rest =
    ` ${Math.round(fraction * 100)}% · ${progress.units.step} ${steps} · ${formatDuration(progress.elapsed)}` +
    (progress.eta === null ? '' : ` · ETA ${formatDuration(progress.eta)}`) +
    (progress.samplesPerSec === null ? '' : ` · ${Math.round(progress.samplesPerSec)} ${progress.units.samples}/s`)
  const bar = barWidth(stdout.columns || 80, epoch.length + rest.length)
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>{header.name}</Text>
        <Text color={theme.muted}>
          {'  '}
          {header.id} · {header.task} · {header.python}
        </Text>
      </Text>
      <Text wrap="truncate-end">
        {epoch}
        {bar > 0 ? <Text color={theme.bar}>{progressBar(fraction, bar)}</Text> : null}
        {rest}
      </Text>
      <Text color={theme.muted} wrap="truncate-end">
        {headlineText(progress, formatNumber).join('  ') || 'waiting for the first metrics…'}
      </Text>
      {progress.warnings.map((warning, index) => (
        <Text key={index} color={theme.warning}>
          warning: {warning}
        </Text>
      ))}
    </Box>
  )
}
