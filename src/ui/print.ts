/**
 * Tables drawn once (`mlx compare`, `mlx runs`): written as text, coloured with ANSI codes
 * where the stream takes colour, without ink or React, which only the live and scrolled
 * views need (loading and laying out ink would be most of such a command's time).
 * The output is what ink drew: the same layout (table-lines.ts), a terminal's lines cut at
 * its width with an ellipsis and the notes under it wrapped at spaces, trailing spaces trimmed.
 */
import {terminalSize} from './terminal.js'
import {displayWidth, fitTable, type Table} from '../core/report/format.js'
import {noteLines, tableLines, type Line, type Segment} from './table-lines.js'
import {ANSI_FOREGROUND, theme} from './theme.js'

/** Whether to write colour codes: never under NO_COLOR, as FORCE_COLOR says, else in a terminal. */
export function colourEnabled(
  stream: Pick<NodeJS.WriteStream, 'isTTY'>,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env.NO_COLOR) return false
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false'
  return Boolean(stream.isTTY) && env.TERM !== 'dumb'
}

/** The line cut to `width` cells, its last kept character followed by an ellipsis. */
function cutLine(line: Line, width: number): Line {
  if (line.reduce((sum, segment) => sum + displayWidth(segment.text), 0) <= width) return line
  const kept: Line = []
  let room = width - 1
  for (const segment of line) {
    let text = ''
    for (const character of segment.text) {
      const cells = displayWidth(character)
      if (cells > room) break
      text += character
      room -= cells
    }
    if (text.length < segment.text.length) {
      kept.push({...segment, text: text + '…'})
      return kept
    }
    kept.push(segment)
  }
  return kept
}

function trimEnd(line: Line): Line {
  const trimmed = [...line]
  while (trimmed.length > 0) {
    const last = trimmed.at(-1)!
    const text = last.text.trimEnd()
    if (text) {
      trimmed[trimmed.length - 1] = {...last, text}
      break
    }
    trimmed.pop()
  }
  return trimmed
}

/** Neighbouring segments of one style as one: a header is one run of codes, not one per column. */
function merged(line: Line): Line {
  const out: Line = []
  for (const segment of line) {
    const last = out.at(-1)
    if (last && last.color === segment.color && last.bold === segment.bold && last.inverse === segment.inverse)
      out[out.length - 1] = {...last, text: last.text + segment.text}
    else out.push(segment)
  }
  return out
}

function styled(segment: Segment, colour: boolean): string {
  if (!colour) return segment.text
  let text = segment.text
  if (segment.inverse) text = `\u001b[7m${text}\u001b[27m`
  if (segment.color) text = `\u001b[${ANSI_FOREGROUND[segment.color]}m${text}\u001b[39m`
  if (segment.bold) text = `\u001b[1m${text}\u001b[22m`
  return text
}

/** The table and its legend as text: fitted to a terminal's width, or whole for a pipe or file. */
export function tableText(table: Table, legend: string, options: {columns?: number; colour: boolean}): string {
  const {columns, colour} = options
  const shown = columns === undefined ? table : fitTable(table, columns)
  const {header, rows} = tableLines(shown)
  const lines: Line[] = [header.map((segment) => ({...segment, bold: true, color: theme.header})), ...rows]
  const cut = (line: Line) => trimEnd(columns === undefined ? line : cutLine(line, columns))
  const legendLines = noteLines(shown, legend, columns)
  const drawn = [...lines.map(cut), ...legendLines.map((text) => trimEnd([{text, color: theme.muted}]))]
  return (
    drawn
      .map((line) =>
        merged(line)
          .map((segment) => styled(segment, colour))
          .join(''),
      )
      .join('\n') + '\n'
  )
}

/** Draws a table once on `stream`: a terminal gets it cut to its width. */
export function printTable(table: Table, legend: string, stream: NodeJS.WriteStream = process.stdout): void {
  stream.write(
    tableText(table, legend, {
      columns: stream.isTTY ? terminalSize(stream).columns : undefined,
      colour: colourEnabled(stream),
    }),
  )
}

/** Whether a table needs browsing (render.tsx's browseTable): a terminal on both ends, and more rows than fit. */
export function tooTallForTerminal(table: Table, stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY && process.stdin.isTTY && table.rows.length > terminalSize(stream).rows - 4)
}
