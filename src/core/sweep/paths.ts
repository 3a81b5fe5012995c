/** Where a sweep's definition lives in the store, and reading it: a small module, so that reports load no config code. */
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {UserError} from '../errors.js'
import type {Store} from '../store/store.js'
import type {SweepDefinition} from './sweep.js'

export const SWEEPS_DIR = 'sweeps'

/** The sweep's directory in the store: its name made safe as one path segment. */
export function sweepDir(store: Store, name: string): string {
  return join(store.dir, SWEEPS_DIR, encodeURIComponent(name).replace(/^\./, '%2E'))
}

export function readDefinition(store: Store, name: string): SweepDefinition {
  const file = join(sweepDir(store, name), 'sweep.json')
  if (!existsSync(file)) {
    const known = store.sweepNames()
    throw new UserError(
      `no sweep named ${JSON.stringify(name)} in this store`,
      known.length > 0 ? `mlx sweeps lists them: ${known.slice(0, 5).join(', ')}` : 'mlx sweep CONFIG starts one',
    )
  }
  return JSON.parse(readFileSync(file, 'utf8')) as SweepDefinition
}
