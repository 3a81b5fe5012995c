import {Box, Text} from 'ink'
import {formatDuration, formatNumber} from '../../core/report/numbers.js'
import {headlineMetrics, type Progress} from '../../core/metrics/progress.js'
import {theme} from '../theme.js'

const BAR_WIDTH = 30

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

export function RunProgress({header, progress}: {header: RunHeader; progress: Progress}) {
  const fraction = progress.totalSteps
    ? progress.step / progress.totalSteps
    : progress.epochs
      ? progress.epoch / progress.epochs
      : 0
  const epochs = progress.epochs === null ? '?' : String(progress.epochs)
  const steps = progress.totalSteps === null ? String(progress.step) : `${progress.step}/${progress.totalSteps}`
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>{header.name}</Text>
        <Text color={theme.muted}>
          {'  '}
          {header.id} · {header.task} · {header.python}
        </Text>
      </Text>
      <Text>
        epoch {Math.min(progress.epoch + 1, progress.epochs ?? Infinity)}/{epochs}{' '}
        <Text color={theme.bar}>{progressBar(fraction)}</Text> {Math.round(fraction * 100)}% · {progress.units.step}{' '}
        {steps} · {formatDuration(progress.elapsed)}
        {progress.eta === null ? '' : ` · ETA ${formatDuration(progress.eta)}`}
        {progress.samplesPerSec === null ? '' : ` · ${Math.round(progress.samplesPerSec)} ${progress.units.samples}/s`}
      </Text>
      <Text color={theme.muted} wrap="truncate-end">
        {headlineMetrics(progress.latest)
          .map(([key, value]) => `${key} ${formatNumber(value)}`)
          .join('  ') || 'waiting for the first metrics…'}
      </Text>
      {progress.warnings.map((warning, index) => (
        <Text key={index} color={theme.warning}>
          warning: {warning}
        </Text>
      ))}
    </Box>
  )
}
