/**
 * The statistics a sweep's selection needs: mean, sample standard deviation, and Welch's t-test
 * (two means, unequal variances) with its two-sided p-value from Student's t distribution. In
 * TypeScript, not scipy: `mlx compare --sweep` must answer in the time Node starts, and a Python
 * start alone costs more. The p-values are checked against scipy.stats.ttest_ind(equal_var=False)
 * in test/unit/sweep-stats.test.ts.
 */

export function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length
}

/** The sample standard deviation (n - 1); 0 for a single value. */
export function std(values: readonly number[]): number {
  if (values.length < 2) return 0
  const m = mean(values)
  return Math.sqrt(values.reduce((sum, value) => sum + (value - m) ** 2, 0) / (values.length - 1))
}

export interface WelchResult {
  t: number
  df: number
  /** Two-sided: the chance of a difference at least this large if the means were equal. */
  p: number
}

/** Welch's t-test of `a` against `b` (each with two values at least); null when it cannot be computed. */
export function welchTTest(a: readonly number[], b: readonly number[]): WelchResult | null {
  if (a.length < 2 || b.length < 2) return null
  const [va, vb] = [std(a) ** 2 / a.length, std(b) ** 2 / b.length]
  const difference = mean(a) - mean(b)
  if (va + vb === 0)
    return {
      t: difference === 0 ? 0 : Math.sign(difference) * Infinity,
      df: a.length + b.length - 2,
      p: difference === 0 ? 1 : 0,
    }
  const t = difference / Math.sqrt(va + vb)
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1))
  return {t, df, p: studentTwoSided(t, df)}
}

/** P(|T| >= |t|) for Student's t with `df` degrees of freedom: I_{df/(df+t^2)}(df/2, 1/2). */
export function studentTwoSided(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0
  return regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5)
}

/** I_x(a, b), by its continued fraction (Lentz's method), with the symmetry that makes it converge. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x))
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(x, a, b)) / a
  return 1 - (front * betaFraction(1 - x, b, a)) / b
}

function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300
  let c = 1
  let d = 1 - ((a + b) * x) / (a + 1)
  if (Math.abs(d) < tiny) d = tiny
  d = 1 / d
  let h = d
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m
    let step = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2))
    d = 1 + step * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + step / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    h *= d * c
    step = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))
    d = 1 + step * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + step / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < 1e-15) break
  }
  return h
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9): about 15 significant digits. */
export function logGamma(x: number): number {
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ]
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x)
  const z = x - 1
  let sum = coefficients[0]!
  for (let i = 1; i < coefficients.length; i++) sum += coefficients[i]! / (z + i)
  const t = z + 7.5
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum)
}
