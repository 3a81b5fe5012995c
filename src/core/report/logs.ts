/** `mlx logs`: a run's stdout.log and stderr.log, printed, or followed while the run trains. */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {readNewLines} from '../metrics/tail.js'
import {reconcileRuns} from '../run/reconcile.js'
import type {RunRecord, Store} from '../store/store.js'

export const STREAMS = ['stdout', 'stderr'] as const
export type Stream = (typeof STREAMS)[number]

/** Prints each of `streams` of `run` to the same stream of this process; with `follow`, until the run ends or Ctrl-C. */
export async function printLogs(
  store: Store,
  run: RunRecord,
  streams: readonly Stream[],
  follow: boolean,
): Promise<void> {
  const offsets = new Map(streams.map((stream) => [stream, 0]))
  const print = (final: boolean) => {
    for (const stream of streams) {
      const read = readNewLines(join(run.runDir, `${stream}.log`), offsets.get(stream)!, final)
      const out = stream === 'stdout' ? process.stdout : process.stderr
      for (const line of read.lines) out.write(line.text + '\n')
      const last = read.lines.at(-1)?.endOffset ?? offsets.get(stream)!
      offsets.set(stream, read.torn?.endOffset ?? last)
      // A last line without its newline is printed as it is once the run has ended.
      if (read.torn) out.write(`${readTail(join(run.runDir, `${stream}.log`), last)}\n`)
    }
  }
  if (!follow) return print(true)
  let stopped = false
  const stop = () => {
    stopped = true
  }
  process.once('SIGINT', stop)
  try {
    // reconcileRuns notices a run whose follower went away and whose process has ended.
    while (!stopped && (reconcileRuns(store), store.getRun(run.id)?.status === 'running')) {
      print(false)
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
    print(true)
  } finally {
    process.off('SIGINT', stop)
  }
}

function readTail(path: string, from: number): string {
  return readFileSync(path).subarray(from).toString('utf8')
}
