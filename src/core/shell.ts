/** Words written for a POSIX shell to read back: a Slurm batch script, a command line shown to copy. */

/** `word` as the shell reads it: as it is when it holds only plain characters, else in single quotes. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}
