/**
 * The terminal's size. Some report 0 columns or rows (CI runners, `script`, serial consoles): a
 * table fitted to 0 columns wraps without end, so those, like a stream that reports nothing,
 * count as 80x24.
 */
const FALLBACK_SIZE = {columns: 80, rows: 24} as const

const usable = (value: number | undefined, fallback: number) =>
  value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback

export function terminalSize(stream: NodeJS.WriteStream): {columns: number; rows: number} {
  return {columns: usable(stream.columns, FALLBACK_SIZE.columns), rows: usable(stream.rows, FALLBACK_SIZE.rows)}
}

/**
 * The stream for ink, which reads the size from the stream itself: a terminal that reports 0 gets
 * the fallback written there (a resize sets the real size again).
 */
/** The width a table printed once may take: the terminal's, or unbounded when the output goes to a pipe or file. */
export function printWidth(stream: NodeJS.WriteStream = process.stdout): number {
  return stream.isTTY ? terminalSize(stream).columns : Number.MAX_SAFE_INTEGER
}

export function sizedForInk(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  if (stream.isTTY) Object.assign(stream, terminalSize(stream))
  return stream
}
