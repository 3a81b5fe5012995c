/**
 * Reading metrics.jsonl as it grows: complete lines from a byte offset on, about `maxBytes` of
 * them at a time (`more` says there are others), so that a backlog of any size is read in
 * bounded memory. A partial last line stays unread until its newline arrives; at the end of a
 * run (`final`), a partial last line is a torn line, reported so that it is counted and skipped.
 */
import {closeSync, fstatSync, openSync, readSync} from 'node:fs'

const CHUNK = 1 << 20
const NEWLINE = 0x0a

/** A complete line of the file, and the byte offset just past its newline. */
export interface TailLine {
  text: string
  endOffset: number
}

export interface TailRead {
  lines: TailLine[]
  torn?: {endOffset: number}
  /** Complete lines were left unread past `maxBytes`: read again from the last line's end. */
  more?: boolean
}

export function readNewLines(
  path: string,
  offset: number,
  final = false,
  maxBytes = Number.POSITIVE_INFINITY,
): TailRead {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {lines: []}
    throw error
  }
  try {
    const size = fstatSync(fd).size
    const lines: TailLine[] = []
    let position = offset
    let pending = Buffer.alloc(0)
    let pendingStart = offset
    while (position < size) {
      const buffer = Buffer.alloc(Math.min(CHUNK, maxBytes, size - position))
      const read = readSync(fd, buffer, 0, buffer.length, position)
      if (read === 0) break
      const chunk = pending.length > 0 ? Buffer.concat([pending, buffer.subarray(0, read)]) : buffer.subarray(0, read)
      let start = 0
      for (let index = chunk.indexOf(NEWLINE); index !== -1; index = chunk.indexOf(NEWLINE, start)) {
        lines.push({text: chunk.toString('utf8', start, index), endOffset: pendingStart + index + 1})
        start = index + 1
      }
      pendingStart += start
      pending = Buffer.from(chunk.subarray(start))
      position += read
      if (pendingStart - offset >= maxBytes && position < size) return {lines, more: true}
    }
    return final && pending.length > 0 ? {lines, torn: {endOffset: pendingStart + pending.length}} : {lines}
  } finally {
    closeSync(fd)
  }
}
