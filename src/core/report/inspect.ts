/** What `mlx show` reads from a run directory: environment record, artifacts, log tails. */
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'

export interface Artifact {
  path: string
  bytes: number
}

export function listArtifacts(runDir: string): Artifact[] {
  const found: Artifact[] = []
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else found.push({path: relative(runDir, path), bytes: statSync(path).size})
    }
  }
  if (existsSync(runDir)) walk(runDir)
  return found
}

export function readJsonFile(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch {
    return null
  }
}

export function tailLines(path: string, count: number): string[] {
  try {
    const text = readFileSync(path, 'utf8').trimEnd()
    return text === '' ? [] : text.split('\n').slice(-count)
  } catch {
    return []
  }
}
