/** Waiting on processes and files in tests. */

/** Whether a process runs (a signal 0 reaches it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export async function waitFor(condition: () => boolean, ms = 180_000): Promise<void> {
  const until = Date.now() + ms
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${condition.toString()}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** The minimal config of docs/config.md: valid, and it trains. */
export const MINIMAL_CONFIG = `name: digits-cnn
task: image-classification
data: {source: digits, batch_size: 64}
model: {arch: cnn}
optim: {name: adam, lr: 0.001}
train: {epochs: 2}
`
