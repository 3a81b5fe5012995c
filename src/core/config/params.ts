/** A run's params: its config flattened to dotted keys. Shared by the store (which indexes them) and comparisons. */

/**
 * `{optim: {lr: 0.001}}` -> `{"optim.lr": 0.001}`; lists stay values. The name, task and tags identify or
 * label a run, a sweep section describes a search over runs and a card section the model card (mlx run ignores
 * both): they are not params.
 */
const NOT_PARAMS = new Set(['name', 'task', 'tags', 'sweep', 'card'])

export function flattenParams(config: Record<string, unknown>): Record<string, unknown> {
  const flat: Array<[string, unknown]> = []
  const walk = (object: Record<string, unknown>, prefix: string) => {
    for (const key of Object.keys(object)) {
      if (!prefix && NOT_PARAMS.has(key)) continue
      const value = object[key]
      const path = prefix ? `${prefix}.${key}` : key
      if (typeof value === 'object' && value !== null && !Array.isArray(value))
        walk(value as Record<string, unknown>, path)
      else flat.push([path, value])
    }
  }
  walk(config, '')
  // fromEntries: a key such as `__proto__` (a config.json edited by hand) stays an own key.
  return Object.fromEntries(flat)
}
