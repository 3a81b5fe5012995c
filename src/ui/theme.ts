/** The one place colours are chosen (ink's colour names), and how a plain print writes them. */
import type {RunStatus} from '../core/store/store.js'

export type Colour = 'cyan' | 'gray' | 'green' | 'blue' | 'red' | 'magenta' | 'yellow'

export const theme = {
  header: 'cyan',
  muted: 'gray',
  best: 'green',
  bar: 'cyan',
  error: 'red',
  warning: 'yellow',
} as const satisfies Record<string, Colour>

export function statusColor(status: RunStatus): Colour {
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
    case 'pruned':
      return 'cyan'
    default: {
      const unreachable: never = status
      return unreachable
    }
  }
}

/** The ANSI foreground code of each colour, as chalk (ink's) writes it. */
export const ANSI_FOREGROUND: Record<Colour, number> = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  gray: 90,
}
