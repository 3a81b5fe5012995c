/** Whether lower or higher is better for a metric, from its name (`val/loss`: min, `val/acc`: max). */

export type Goal = 'min' | 'max'

const LOWER_IS_BETTER = /(loss|error|err|wer|cer|mse|mae|rmse|perplexity|ppl|nll|regret|time|latency|distance)$/i
const HIGHER_IS_BETTER =
  /(acc|accuracy|f1|auc|precision|recall|r2|return|reward|score|iou|map|bleu|rouge|ndcg|samples_per_sec|throughput)$/i

/** The goal configured for a metric, else inferred from its last name part; undefined when unknown (lr, epsilon...). */
export function metricGoal(key: string, configured?: Record<string, Goal | null | undefined>): Goal | undefined {
  const explicit = configured?.[key]
  if (explicit) return explicit
  const name = key.split('/').at(-1) ?? key
  if (LOWER_IS_BETTER.test(name)) return 'min'
  if (HIGHER_IS_BETTER.test(name)) return 'max'
  return undefined
}

/** Timing and cost metrics (`perf/*`: step time, samples/s; `cost/*`: what a run cost, logged at its end) are shown apart, never judged. */
export function isTimingMetric(key: string): boolean {
  return key.startsWith('perf/') || key.startsWith('cost/')
}

/** Metric keys in reading order: the primary first, then the others by name, then the timing metrics by name. */
export function readingOrder(keys: Iterable<string>, primary: string): string[] {
  const rank = (key: string) => (key === primary ? 0 : isTimingMetric(key) ? 2 : 1)
  return [...new Set(keys)].sort((x, y) => rank(x) - rank(y) || (x < y ? -1 : x > y ? 1 : 0))
}
