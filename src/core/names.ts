/**
 * The rule for run and experiment names, in one place: the config's `name` (and so `--name`,
 * which the config loader checks as the config's name) and `mlx rename`. Names appear in file
 * headers, tables, Slurm job names and TensorBoard labels: one printable line, no slashes.
 */
export const NAME_PATTERN = /^[^\s/\\\p{Cc}][^/\\\p{Cc}]*$/u
export const NAME_MAX_LENGTH = 200
export const NAME_RULE = 'a name is one line of text without slashes, not starting with a space'

/** Why `name` is not a valid name, or null when it is. */
export function nameProblem(name: string): string | null {
  if (name.length > NAME_MAX_LENGTH)
    return `a name is at most ${NAME_MAX_LENGTH} characters; this one has ${name.length}`
  return NAME_PATTERN.test(name) ? null : NAME_RULE
}
