/** The launcher contract (test/helpers/launcher-contract.ts) for the launchers of this machine. */
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {localLauncher} from '../../src/core/launch/local.js'
import {torchrunLauncher} from '../../src/core/launch/torchrun.js'
import {repoRoot, tempDir} from '../helpers/cli.js'
import {launcherContract} from '../helpers/launcher-contract.js'

describe('launcher local', () => {
  launcherContract(() => localLauncher)

  it('a kill is SIGKILL to the process group', async () => {
    const dir = tempDir()
    const child = localLauncher.launch({
      command: 'sleep',
      args: ['300'],
      cwd: dir,
      env: {},
      stdoutFile: join(dir, 'out'),
      stderrFile: join(dir, 'err'),
    })
    child.kill()
    expect(await child.done).toEqual({exitCode: null, signal: 'SIGKILL'})
  })
})

// torchrun with one worker, from the project's Python: the command runs as its only worker.
describe('launcher torchrun', () => {
  launcherContract(() =>
    torchrunLauncher({
      python: join(repoRoot, '.venv/bin/python'),
      nprocPerNode: 1,
      nnodes: 1,
      rdzvEndpoint: null,
      rdzvId: 'contract',
      maxRestarts: 0,
    }),
  )
})
