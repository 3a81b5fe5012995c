/**
 * The small filter language of `mlx compare --where`:
 *
 *   optim.lr < 0.01 and status = completed and val/acc >= 0.9
 *   (optim.name = sgd or optim.name = adamw) and not tag = baseline
 *   name ~ 'digits-*'
 *   note ~ '*overfit*'
 *
 * Fields: `id`, `name`, `task`, `status`, `duration` (seconds), `tag`, `note` (any of the
 * run's notes), any param by its
 * dotted path (`optim.lr`), any metric by its name (`val/acc`: its best value, or its last
 * when no direction is known; `val/acc:last`, `:min`, `:max`, `:best` to choose). Operators:
 * `=`, `!=`, `<`, `<=`, `>`, `>=`, and `~` (glob: `*`, `?`). Values: numbers, words,
 * or quoted text. `and` binds tighter than `or`; `not` and parentheses as usual.
 *
 * The expression is parsed here and evaluated in memory over runs that were read with
 * fixed SQL: nothing the user types ever reaches SQL. Whatever is typed, the work is bounded:
 * one pass to tokenize, `and`/`or` chains held flat, nesting, length and globs limited
 * (WHERE_LIMITS; past them, a clear error), and globs matched without backtracking.
 */
import {closest} from '../config/suggest.js'
import {excerpt, UserError} from '../errors.js'

export type Operator = '=' | '!=' | '<' | '<=' | '>' | '>=' | '~'
export type Value = number | string

/** `and` and `or` hold all their operands in one node: a chain of thousands of terms nests no deeper than one. */
export type Expression =
  | {kind: 'and' | 'or'; operands: Expression[]}
  | {kind: 'not'; operand: Expression}
  | {kind: 'compare'; field: string; operator: Operator; value: Value}

interface Token {
  kind: 'word' | 'number' | 'string' | 'operator' | 'open' | 'close'
  text: string
  value: Value
  column: number
}

/** Limits that keep parsing and evaluation bounded whatever is typed: length, terms, nesting. */
export const WHERE_LIMITS = {characters: 1_000_000, comparisons: 10_000, depth: 64, glob: 1_000} as const

const OPERATORS: readonly Operator[] = ['<=', '>=', '!=', '=', '<', '>', '~']
// Sticky: each matches at the tokenizer's position, so tokenizing is one pass over the text.
// Words may hold glob characters, for name ~ digits-*.
const WORD = /[A-Za-z_*?][A-Za-z0-9_./:*?-]*/y
const NUMBER = /-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/y
const SPACE = /\s+/y

function syntaxError(source: string, column: number, message: string, hint?: string): UserError {
  return new UserError(
    `--where ${JSON.stringify(excerpt(source))}: column ${column}: ${message}`,
    hint ?? 'for example --where "optim.lr < 0.01 and status = completed"',
  )
}

function matchAt(pattern: RegExp, source: string, index: number): string | undefined {
  pattern.lastIndex = index
  return pattern.exec(source)?.[0]
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  let index = 0
  while (index < source.length) {
    const column = index + 1
    const space = matchAt(SPACE, source, index)
    if (space) {
      index += space.length
      continue
    }
    const character = source[index]!
    const operator = OPERATORS.find((op) => source.startsWith(op, index))
    const word = matchAt(WORD, source, index)
    const number = word ? undefined : matchAt(NUMBER, source, index)
    if (character === '(' || character === ')') {
      tokens.push({kind: character === '(' ? 'open' : 'close', text: character, value: character, column})
      index++
    } else if (operator) {
      tokens.push({kind: 'operator', text: operator, value: operator, column})
      index += operator.length
    } else if (character === "'" || character === '"') {
      const end = source.indexOf(character, index + 1)
      if (end < 0) throw syntaxError(source, column, 'this quoted text has no closing quote')
      tokens.push({kind: 'string', text: source.slice(index, end + 1), value: source.slice(index + 1, end), column})
      index = end + 1
    } else if (number) {
      tokens.push({kind: 'number', text: number, value: Number(number), column})
      index += number.length
    } else if (word) {
      tokens.push({kind: 'word', text: word, value: word, column})
      index += word.length
    } else {
      throw syntaxError(source, column, `unexpected ${JSON.stringify(character)}`)
    }
  }
  return tokens
}

const isKeyword = (token: Token | undefined, word: string) =>
  token?.kind === 'word' && token.text.toLowerCase() === word

export function parseWhere(source: string): Expression {
  if (source.length > WHERE_LIMITS.characters) {
    throw syntaxError(
      source,
      WHERE_LIMITS.characters + 1,
      `the expression is ${source.length} characters long; at most ${WHERE_LIMITS.characters} are read`,
      "filter on fewer values: a glob (name ~ 'lr-*') or a range (optim.lr < 0.01) stands for many",
    )
  }
  const tokens = tokenize(source)
  let position = 0
  let comparisons = 0
  const peek = () => tokens[position]
  const end = source.length + 1
  const expect = (what: string): never => {
    const token = peek()
    throw syntaxError(
      source,
      token?.column ?? end,
      `expected ${what}, found ${token ? JSON.stringify(excerpt(token.text, 40)) : 'the end'}`,
    )
  }
  const nest = (depth: number) => {
    const token = peek()
    if (depth > WHERE_LIMITS.depth)
      throw syntaxError(
        source,
        token?.column ?? end,
        `parentheses and "not" nest more than ${WHERE_LIMITS.depth} deep`,
        'write the expression flatter: "a or b or c" needs no parentheses',
      )
  }

  const chain = (kind: 'and' | 'or', parseOperand: (depth: number) => Expression, depth: number): Expression => {
    const operands = [parseOperand(depth)]
    while (isKeyword(peek(), kind)) {
      position++
      operands.push(parseOperand(depth))
    }
    return operands.length === 1 ? operands[0]! : {kind, operands}
  }
  const parseOr = (depth: number): Expression => chain('or', parseAnd, depth)
  const parseAnd = (depth: number): Expression => chain('and', parseUnary, depth)
  const parseUnary = (depth: number): Expression => {
    const token = peek()
    if (isKeyword(token, 'not')) {
      nest(depth + 1)
      position++
      return {kind: 'not', operand: parseUnary(depth + 1)}
    }
    if (token?.kind === 'open') {
      nest(depth + 1)
      position++
      const inner = parseOr(depth + 1)
      if (peek()?.kind !== 'close') expect('")"')
      position++
      return inner
    }
    return parseComparison()
  }
  const parseComparison = (): Expression => {
    const field = peek()
    if (field?.kind !== 'word' || ['and', 'or', 'not'].includes(field.text.toLowerCase()))
      return expect('a field (a param such as optim.lr, a metric such as val/acc, or status, name, tag, note...)')
    if (++comparisons > WHERE_LIMITS.comparisons)
      throw syntaxError(
        source,
        field.column,
        `more than ${WHERE_LIMITS.comparisons} comparisons`,
        "filter on fewer values: a glob (name ~ 'lr-*') or a range (optim.lr < 0.01) stands for many",
      )
    position++
    const operator = peek()
    if (operator?.kind !== 'operator')
      return expect(`an operator (${OPERATORS.join(' ')}) after ${excerpt(field.text, 40)}`)
    position++
    const value = peek()
    if (!value || !['word', 'number', 'string'].includes(value.kind))
      return expect(`a value after ${excerpt(field.text, 40)} ${operator.text}`)
    if (operator.text === '~' && String(value.value).length > WHERE_LIMITS.glob)
      throw syntaxError(
        source,
        value.column,
        `a glob is at most ${WHERE_LIMITS.glob} characters; this one has ${String(value.value).length}`,
      )
    position++
    return {kind: 'compare', field: field.text, operator: operator.text as Operator, value: value.value}
  }

  if (tokens.length === 0) throw syntaxError(source, 1, 'the expression is empty')
  const expression = parseOr(0)
  if (position < tokens.length) expect('"and", "or" or the end')
  return expression
}

/** Every field an expression names. */
export function fieldsOf(expression: Expression): string[] {
  switch (expression.kind) {
    case 'and':
    case 'or':
      return expression.operands.flatMap(fieldsOf)
    case 'not':
      return fieldsOf(expression.operand)
    case 'compare':
      return [expression.field]
    default: {
      const unreachable: never = expression
      return unreachable
    }
  }
}

/** A field's value(s) for one run: undefined when the run lacks it; several for `tag` and `note`. */
export type FieldReader = (field: string) => Value | readonly Value[] | null | undefined

/**
 * Whether `text` matches `glob` (`*` any run of characters, `?` one). Greedy with one saved
 * star: at most |text| x |glob| steps, never the exponential backtracking of a regular
 * expression built from the glob.
 */
export function globMatches(glob: string, text: string): boolean {
  const pattern = [...glob]
  const characters = [...text]
  let p = 0
  let t = 0
  let star = -1
  let resume = 0
  while (t < characters.length) {
    if (p < pattern.length && (pattern[p] === '?' || (pattern[p] !== '*' && pattern[p] === characters[t]))) {
      p++
      t++
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++
      resume = t
    } else if (star >= 0) {
      p = star + 1
      t = ++resume
    } else {
      return false
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++
  return p === pattern.length
}

function compareOne(actual: Value, operator: Operator, expected: Value): boolean {
  if (operator === '~') return globMatches(String(expected), String(actual))
  const numeric = typeof actual === 'number' && typeof expected === 'number'
  const [a, b] = numeric ? [actual, expected] : [String(actual), String(expected)]
  switch (operator) {
    case '=':
      return a === b
    case '!=':
      return a !== b
    case '<':
      return a < b
    case '<=':
      return a <= b
    case '>':
      return a > b
    case '>=':
      return a >= b
    default: {
      const unreachable: never = operator
      return unreachable
    }
  }
}

export function evaluate(expression: Expression, read: FieldReader): boolean {
  switch (expression.kind) {
    case 'and':
      return expression.operands.every((operand) => evaluate(operand, read))
    case 'or':
      return expression.operands.some((operand) => evaluate(operand, read))
    case 'not':
      return !evaluate(expression.operand, read)
    case 'compare': {
      const actual = read(expression.field)
      if (actual === undefined || actual === null) return expression.operator === '!='
      const values = Array.isArray(actual) ? (actual as readonly Value[]) : [actual as Value]
      // `tag != x`: no tag equals x; other operators: some value matches.
      if (expression.operator === '!=') return values.every((value) => compareOne(value, '!=', expression.value))
      return values.some((value) => compareOne(value, expression.operator, expression.value))
    }
    default: {
      const unreachable: never = expression
      return unreachable
    }
  }
}

/** Rejects fields that no run has, naming the closest one that exists. */
export function checkFields(expression: Expression, known: readonly string[], source: string): void {
  for (const field of fieldsOf(expression)) {
    const base = field.replace(/:(last|best|min|max)$/, '')
    if (known.includes(base)) continue
    const suggestion = closest(base, known)
    throw new UserError(
      `--where ${JSON.stringify(excerpt(source))}: no run has a field ${JSON.stringify(excerpt(field))}`,
      suggestion
        ? `did you mean ${suggestion}?`
        : 'fields: id, name, task, status, duration, tag, note, params (optim.lr...) and metrics (val/acc...)',
    )
  }
}
