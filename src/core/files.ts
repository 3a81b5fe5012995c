/** Reading files a user names (configs, mlx.yaml) so that no file can hang mlx or fill its memory; the size of a folder. */
import {closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync} from 'node:fs'
import {join} from 'node:path'

/**
 * The bytes of a regular file of at most `maxBytes`, or why not. Opened without blocking, so a
 * FIFO never hangs the open, and read no further than the cap, so a device such as /dev/zero
 * (or a file that grows while it is read) never fills memory.
 */
export function readRegularFile(
  file: string,
  maxBytes: number,
  what = 'a config',
): {bytes: Buffer} | {problem: string; hint?: string} {
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT')
      return {problem: 'file not found', hint: 'check the path; it is relative to the current directory'}
    if (code === 'EACCES') return {problem: 'cannot read the file (permission denied)'}
    return {problem: `cannot read the file (${code ?? String(error)})`}
  }
  try {
    const stats = fstatSync(fd)
    if (stats.isDirectory())
      return {problem: 'is a directory, not a config file', hint: 'give the path of a .yaml file'}
    if (!stats.isFile())
      return {problem: 'is not a regular file (a pipe, a device or a socket)', hint: 'give the path of a .yaml file'}
    if (stats.size > maxBytes) return tooLarge(stats.size, maxBytes, what)
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, Math.max(stats.size, 64 * 1024)))
    let length = 0
    for (;;) {
      if (length === buffer.length) {
        if (length > maxBytes) return tooLarge(length, maxBytes, what)
        return {bytes: buffer}
      }
      const count = readSync(fd, buffer, length, buffer.length - length, null)
      if (count === 0) return {bytes: buffer.subarray(0, length)}
      length += count
      if (length > maxBytes) return tooLarge(length, maxBytes, what)
    }
  } catch (error) {
    return {problem: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`}
  } finally {
    closeSync(fd)
  }
}

function tooLarge(size: number, maxBytes: number, what: string): {problem: string; hint?: string} {
  const limit = maxBytes >= 1024 * 1024 ? `${maxBytes / 1024 / 1024} MiB` : `${maxBytes / 1024} KiB`
  const problem = `file is ${size > maxBytes + 1 ? size : `over ${maxBytes}`} bytes; ${what} may be at most ${limit}`
  return what === 'a config' ? {problem, hint: 'keep data out of the config and point at it by path'} : {problem}
}

/** Bytes under `path` (a file, or a folder walked without following links); 0 when it is not there. */
export function diskUsage(path: string): number {
  let stat
  try {
    stat = lstatSync(path)
  } catch {
    return 0
  }
  if (!stat.isDirectory()) return stat.size
  return readdirSync(path).reduce((sum, entry) => sum + diskUsage(join(path, entry)), 0)
}
