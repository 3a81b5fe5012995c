/** The one place colours are chosen. ink's colour names. */
import type {RunStatus} from '../core/store/store.js'

export const theme = {
  header: 'cyan',
  muted: 'gray',
  best: 'green',
  bar: 'cyan',
  error: 'red',
} as const

export function statusColor(status: RunStatus): string {
  switch (status) {
    case 'running':
      return 'blue'
    case 'completed':
      return 'green'
    case 'failed':
      return 'red'
    case 'diverged':
      return 'magenta'
    case 'interrupted':
      return 'yellow'
    default: {
      const unreachable: never = status
      return unreachable
    }
  }
}
