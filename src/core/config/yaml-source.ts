/**
 * Reading a YAML file so that every later problem can be pinned to a line and column:
 * size and encoding checks, YAML syntax errors, and the mapping from a key path (a zod
 * issue's path) back to the node that holds it.
 */
import {isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node} from 'yaml'
import {excerpt, type Diagnostic} from '../errors.js'
import {readRegularFile} from '../files.js'

export const MAX_CONFIG_BYTES = 1024 * 1024
const MAX_ALIAS_COUNT = 100

export interface YamlSource {
  file: string
  doc: Document.Parsed
  lineCounter: LineCounter
}

export type PathKey = string | number

/** Plainer words for the YAML errors people make most (by the yaml library's error code). */
const SYNTAX_MESSAGES: Partial<Record<string, {message?: string; hint?: string}>> = {
  MULTIPLE_DOCS: {
    message: 'a config is one YAML document; this file holds several',
    hint: 'remove the --- separator, or split the file',
  },
  DUPLICATE_KEY: {
    message: 'this key appears twice in the same mapping',
    hint: 'keep one; with extends, a base is the place for the other value',
  },
  TAB_AS_INDENT: {message: 'a tab is used for indentation', hint: 'indent with spaces'},
}

/** Reads and parses `file`. Returns the parsed value, or the problems found. */
export function readYaml(file: string): {source: YamlSource; value: unknown} | {diagnostics: Diagnostic[]} {
  const at = (message: string, hint?: string, line = 1, column = 1): {diagnostics: Diagnostic[]} => ({
    diagnostics: [{source: file, line, column, path: '', message, hint}],
  })

  const read = readRegularFile(file, MAX_CONFIG_BYTES)
  if ('problem' in read) return at(read.problem, read.hint)
  const bytes = read.bytes
  let text: string
  try {
    text = new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    // Lenient decoding marks the first bad byte with U+FFFD: the text before it gives the position.
    const lenient = bytes.toString('utf8')
    const before = lenient.slice(0, Math.max(0, lenient.indexOf('\uFFFD'))).split('\n')
    return at('file is not valid UTF-8 text', 'save it as UTF-8', before.length, before.at(-1)!.length + 1)
  }

  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {lineCounter, uniqueKeys: true, prettyErrors: true})
  if (doc.errors.length > 0) {
    return {
      diagnostics: doc.errors.map((error) => {
        const pos = error.linePos?.[0] ?? {line: 1, col: 1}
        const known = SYNTAX_MESSAGES[error.code]
        return {
          source: file,
          line: pos.line,
          column: pos.col,
          path: '',
          message: known?.message ?? firstLine(error.message),
          ...(known?.hint ? {hint: known.hint} : {}),
        }
      }),
    }
  }
  if (doc.contents === null)
    return at('file is empty', 'a config is a mapping: name, task, data, model, optim, train...')

  let value: unknown
  try {
    value = doc.toJS({maxAliasCount: MAX_ALIAS_COUNT})
  } catch (error) {
    return at(firstLine((error as Error).message), 'YAML aliases that expand exponentially are refused')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const pos = positionOf({file, doc, lineCounter}, [])
    const seen = Array.isArray(value) ? 'a list' : `the scalar ${excerpt(JSON.stringify(value) ?? String(value))}`
    return at(`expected a mapping of sections at the top level, found ${seen}`, undefined, pos.line, pos.column)
  }
  return {source: {file, doc, lineCounter}, value}
}

/**
 * The line and column of the node at `path`. When the path does not exist in the file
 * (a missing required field), the nearest existing ancestor is used. With `key`, the
 * position of that key inside the mapping at `path` (for an unknown key).
 */
export function positionOf(source: YamlSource, path: readonly PathKey[], key?: string): {line: number; column: number} {
  const {doc, lineCounter} = source
  if (key !== undefined) {
    const map = path.length === 0 ? doc.contents : doc.getIn(path, true)
    if (isMap(map)) {
      const pair = map.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === key)
      const keyNode = pair?.key as Node | undefined
      if (keyNode?.range) return linePos(lineCounter, keyNode.range[0])
    }
  }
  for (let depth = path.length; depth >= 0; depth--) {
    const node = (depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true)) as Node | null | undefined
    if (node?.range) return linePos(lineCounter, node.range[0])
  }
  return {line: 1, column: 1}
}

function linePos(lineCounter: LineCounter, offset: number): {line: number; column: number} {
  const {line, col} = lineCounter.linePos(offset)
  return {line, column: col}
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
}
