/**
 * `mlx validate --test-patterns LOGFILE`: what a script config's patterns take from a saved log,
 * computed by the same code that reads a running script's output (mlx_runtime.capture, in the
 * run's Python), so what it shows is what a run would store.
 */
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import type {ExperimentConfig} from '../config/schema.js'
import {excerpt, UserError} from '../errors.js'
import type {Project} from '../project/project.js'
import {choosePython, runtimeEnv} from '../project/python.js'

export interface ExtractedRecord {
  /** 1-based line of the log (a carriage return also ends a line). */
  line: number
  step: number
  epoch: number | null
  values: Record<string, number>
}

export interface PatternTest {
  log: string
  lines: number
  records: ExtractedRecord[]
}

export async function testPatterns(
  project: Project,
  config: ExperimentConfig,
  logFile: string,
  python?: string,
): Promise<PatternTest> {
  if (config.task !== 'script')
    throw new UserError(
      `--test-patterns reads a log with a script config's patterns; this config's task is ${config.task}`,
      'use it with a config of task: script',
    )
  if (!existsSync(logFile)) throw new UserError(`no such log file: ${excerpt(logFile)}`)
  const choice = choosePython(
    project,
    python,
    config.launch.python === undefined ? undefined : {python: config.launch.python, file: logFile},
  )
  const folder = mkdtempSync(join(tmpdir(), 'mlx-patterns-'))
  try {
    const configFile = join(folder, 'config.json')
    writeFileSync(configFile, JSON.stringify(config))
    const result = await execa(choice.command, ['-m', 'mlx_runtime.capture', configFile, '--test', logFile], {
      env: runtimeEnv(),
      reject: false,
    })
    if (result.exitCode !== 0)
      throw new UserError(
        `the patterns could not be applied: ${String(result.stderr).trim().split('\n').at(-1)}`,
        'check script.patterns (Python regular expressions)',
      )
    const records = String(result.stdout)
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as ExtractedRecord)
    const text = readFileSync(logFile, 'utf8')
    const lines = text === '' ? 0 : text.replace(/(\r\n|\r|\n)$/, '').split(/\r\n|\r|\n/).length
    return {log: logFile, lines, records}
  } finally {
    rmSync(folder, {recursive: true, force: true})
  }
}
