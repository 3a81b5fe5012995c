/** "Did you mean" suggestions for near-miss keys and enum values. */

export function editDistance(a: string, b: string): number {
  const previous = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!
    previous[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!
      previous[j] = Math.min(above + 1, previous[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return previous[b.length]!
}

/**
 * The closest candidate within a third of the word's length, rounded up (at least 1
 * edit, at most 3); else the one candidate that the word begins (`keep` -> `keep_last`).
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const near = closestByEdits(word, candidates)
  if (near !== undefined || word.length < 3) return near
  const extended = candidates.filter((candidate) => candidate.toLowerCase().startsWith(word.toLowerCase()))
  return extended.length === 1 ? extended[0] : undefined
}

function closestByEdits(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.ceil(word.length / 3)))
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    // Lengths further apart than the limit are further apart in edits too (and a huge word costs nothing).
    if (Math.abs(candidate.length - word.length) > limit) continue
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return bestDistance <= limit ? best : undefined
}
