/** Running the compiled CLI as a user would: a real child process, in a real project folder. */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa, type ResultPromise} from 'execa'

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
export const binRun = join(repoRoot, 'bin', 'run.js')

export interface CliResult {
  exitCode: number | undefined
  stdout: string
  stderr: string
}

/**
 * NODE_ENV=production: vitest sets NODE_ENV=test, and an oclif child that inherits it
 * runs src/ through tsx instead of the compiled dist/.
 */
export function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {NODE_ENV: 'production', NO_COLOR: '1', ...extra}
}

export function startCli(
  args: string[],
  options: {cwd: string; env?: Record<string, string>},
): ResultPromise<{cwd: string; env: Record<string, string>; reject: false}> {
  return execa('node', [binRun, ...args], {cwd: options.cwd, env: cliEnv(options.env), reject: false})
}

export async function cli(args: string[], options: {cwd: string; env?: Record<string, string>}): Promise<CliResult> {
  const result = await startCli(args, options)
  return {exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr)}
}

/** A fresh project folder (holding mlx.yaml) with the given files. */
export function tempProject(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlx-test-'))
  writeFileSync(join(dir, 'mlx.yaml'), '')
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mlx-test-'))
}
