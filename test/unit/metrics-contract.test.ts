/**
 * The metrics stream's contract, read side: mlx parses each line of the shared fixture as it says
 * (python/tests/test_metrics_contract.py checks that mlx_runtime's writer writes those very lines).
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseMetricsLine} from '../../src/core/metrics/parse.js'
import {repoRoot} from '../helpers/cli.js'

interface ContractCase {
  name: string
  write?: unknown
  line: string
  read?: {kind: 'metrics'; values: Array<[string, number | string]>} | {kind: 'event'}
  problem?: string
}

const contract = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/metrics-contract.json'), 'utf8')) as {
  cases: ContractCase[]
}
const NON_FINITE: Record<string, number> = {NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity}

/** The fixture's record as parseMetricsLine returns it: values as {key, value}, non-finite strings as numbers. */
function expected(read: NonNullable<ContractCase['read']>): unknown {
  if (read.kind !== 'metrics') return read
  const values = read.values.map(([key, value]) => ({
    key,
    value: typeof value === 'string' ? NON_FINITE[value] : value,
  }))
  return {...read, values}
}

describe('the metrics contract (test/fixtures/metrics-contract.json)', () => {
  it('holds lines the writer writes and lines the reader refuses', () => {
    expect(contract.cases.filter((c) => c.write).length).toBeGreaterThanOrEqual(5)
    expect(contract.cases.filter((c) => c.problem).length).toBeGreaterThanOrEqual(5)
  })

  it.each(contract.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const parsed = parseMetricsLine(c.line)
    if (c.problem !== undefined) expect(parsed).toEqual({ok: false, problem: c.problem})
    else expect(parsed).toEqual({ok: true, record: expected(c.read!)})
  })
})
