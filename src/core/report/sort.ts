/** The one ordering of values in sorted runs and table rows (apart from format.ts, so that sorting runs loads no text-width code). */

/** Orders two values: numbers as numbers, anything else as text; a missing value (undefined, null) goes last either way. */
export function compareSortValues(x: unknown, y: unknown, descending: boolean): number {
  const missing = (v: unknown) => v === undefined || v === null
  if (missing(x) || missing(y)) return Number(missing(x)) - Number(missing(y))
  const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))
  return descending ? -order : order
}
