/** Where mlx itself is installed: its templates, its Python runtime, its own virtual environment. */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

/** The package root: this file is `src/core/project/paths.ts` or `dist/core/project/paths.js`. */
export const packageRoot = fileURLToPath(new URL('../../../', import.meta.url))
export const templatesDir = join(packageRoot, 'templates')
export const runtimeDir = join(packageRoot, 'python')
/** The environment that `make setup` creates for mlx itself. */
export const ownPython = join(packageRoot, '.venv', 'bin', 'python')

let cachedVersion: string | undefined
export function mlxVersion(): string {
  cachedVersion ??= (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {version: string}).version
  return cachedVersion
}
