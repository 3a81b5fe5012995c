/**
 * The small filter language of `mlx compare --where`:
 *
 *   optim.lr < 0.01 and status = completed and val/acc >= 0.9
 *   (optim.name = sgd or optim.name = adamw) and not tag = baseline
 *   name ~ 'digits-*'
 *
 * Fields: `id`, `name`, `task`, `status`, `duration` (seconds), `tag`, any param by its
 * dotted path (`optim.lr`), any metric by its name (`val/acc`: its best value, or its last
 * when no direction is known; `val/acc:last`, `:min`, `:max`, `:best` to choose). Operators:
 * `=`, `!=`, `<`, `<=`, `>`, `>=`, and `~` (glob: `*`, `?`). Values: numbers, words,
 * or quoted text. `and` binds tighter than `or`; `not` and parentheses as usual.
 *
 * The expression is parsed here and evaluated in memory over runs that were read with
 * fixed SQL: nothing the user types ever reaches SQL.
 */
import {closest} from './config/suggest.js'
import {UserError} from './errors.js'

export type Operator = '=' | '!=' | '<' | '<=' | '>' | '>=' | '~'
export type Value = number | string

export type Expression =
  | {kind: 'and' | 'or'; left: Expression; right: Expression}
  | {kind: 'not'; operand: Expression}
  | {kind: 'compare'; field: string; operator: Operator; value: Value}

interface Token {
  kind: 'word' | 'number' | 'string' | 'operator' | 'open' | 'close'
  text: string
  value: Value
  column: number
}

const OPERATORS: readonly Operator[] = ['<=', '>=', '!=', '=', '<', '>', '~']
// Words may hold glob characters, for name ~ digits-*.
const WORD = /^[A-Za-z_*?][A-Za-z0-9_./:*?-]*/
const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/

function syntaxError(source: string, column: number, message: string, hint?: string): UserError {
  return new UserError(`--where ${JSON.stringify(source)}: column ${column}: ${message}`, hint ?? 'for example --where "optim.lr < 0.01 and status = completed"')
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  let index = 0
  while (index < source.length) {
    const rest = source.slice(index)
    const column = index + 1
    if (/^\s/.test(rest)) {
      index++
      continue
    }
    const operator = OPERATORS.find((op) => rest.startsWith(op))
    if (rest[0] === '(' || rest[0] === ')') {
      tokens.push({kind: rest[0] === '(' ? 'open' : 'close', text: rest[0], value: rest[0], column})
      index++
    } else if (operator) {
      tokens.push({kind: 'operator', text: operator, value: operator, column})
      index += operator.length
    } else if (rest[0] === "'" || rest[0] === '"') {
      const end = rest.indexOf(rest[0], 1)
      if (end < 0) throw syntaxError(source, column, 'this quoted text has no closing quote')
      tokens.push({kind: 'string', text: rest.slice(0, end + 1), value: rest.slice(1, end), column})
      index += end + 1
    } else if (NUMBER.test(rest) && !WORD.test(rest)) {
      const text = rest.match(NUMBER)![0]
      tokens.push({kind: 'number', text, value: Number(text), column})
      index += text.length
    } else if (WORD.test(rest)) {
      const text = rest.match(WORD)![0]
      tokens.push({kind: 'word', text, value: text, column})
      index += text.length
    } else {
      throw syntaxError(source, column, `unexpected ${JSON.stringify(rest[0])}`)
    }
  }
  return tokens
}

const isKeyword = (token: Token | undefined, word: string) => token?.kind === 'word' && token.text.toLowerCase() === word

export function parseWhere(source: string): Expression {
  const tokens = tokenize(source)
  let position = 0
  const peek = () => tokens[position]
  const end = source.length + 1
  const expect = (what: string): never => {
    const token = peek()
    throw syntaxError(source, token?.column ?? end, `expected ${what}, found ${token ? JSON.stringify(token.text) : 'the end'}`)
  }

  const parseOr = (): Expression => {
    let left = parseAnd()
    while (isKeyword(peek(), 'or')) {
      position++
      left = {kind: 'or', left, right: parseAnd()}
    }
    return left
  }
  const parseAnd = (): Expression => {
    let left = parseUnary()
    while (isKeyword(peek(), 'and')) {
      position++
      left = {kind: 'and', left, right: parseUnary()}
    }
    return left
  }
  const parseUnary = (): Expression => {
    const token = peek()
    if (isKeyword(token, 'not')) {
      position++
      return {kind: 'not', operand: parseUnary()}
    }
    if (token?.kind === 'open') {
      position++
      const inner = parseOr()
      if (peek()?.kind !== 'close') expect('")"')
      position++
      return inner
    }
    return parseComparison()
  }
  const parseComparison = (): Expression => {
    const field = peek()
    if (field?.kind !== 'word' || ['and', 'or', 'not'].includes(field.text.toLowerCase())) return expect('a field (a param such as optim.lr, a metric such as val/acc, or status, name, tag...)')
    position++
    const operator = peek()
    if (operator?.kind !== 'operator') return expect(`an operator (${OPERATORS.join(' ')}) after ${field.text}`)
    position++
    const value = peek()
    if (!value || !['word', 'number', 'string'].includes(value.kind)) return expect(`a value after ${field.text} ${operator.text}`)
    position++
    return {kind: 'compare', field: field.text, operator: operator.text as Operator, value: value.value}
  }

  if (tokens.length === 0) throw syntaxError(source, 1, 'the expression is empty')
  const expression = parseOr()
  if (position < tokens.length) expect('"and", "or" or the end')
  return expression
}

/** Every field an expression names. */
export function fieldsOf(expression: Expression): string[] {
  switch (expression.kind) {
    case 'and':
    case 'or':
      return [...fieldsOf(expression.left), ...fieldsOf(expression.right)]
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

/** A field's value(s) for one run: undefined when the run lacks it; several for `tag`. */
export type FieldReader = (field: string) => Value | readonly Value[] | null | undefined

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${escaped}$`)
}

function compareOne(actual: Value, operator: Operator, expected: Value): boolean {
  if (operator === '~') return globToRegExp(String(expected)).test(String(actual))
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
      return evaluate(expression.left, read) && evaluate(expression.right, read)
    case 'or':
      return evaluate(expression.left, read) || evaluate(expression.right, read)
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
    throw new UserError(`--where ${JSON.stringify(source)}: no run has a field ${JSON.stringify(field)}`, suggestion ? `did you mean ${suggestion}?` : 'fields: id, name, task, status, duration, tag, params (optim.lr...) and metrics (val/acc...)')
  }
}
