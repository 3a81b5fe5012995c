/**
 * The contract every launcher keeps (Hydra's launcher tests are the model): run a
 * command with its args, cwd and env; send its output to the given files; report its
 * exit code; stop the whole process tree on interrupt or kill.
 */
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {Launcher, LaunchSpec} from '../../src/core/launch/launcher.js'
import {localLauncher} from '../../src/core/launch/local.js'
import {torchrunLauncher} from '../../src/core/launch/torchrun.js'
import {repoRoot, tempDir} from '../helpers/cli.js'
import {alive, waitFor} from '../helpers/process.js'

// torchrun with one worker, from the project's Python: the command runs as its only worker.
const projectPython = join(repoRoot, '.venv/bin/python')
const launchers: Launcher[] = [
  localLauncher,
  torchrunLauncher({python: projectPython, nprocPerNode: 1, nnodes: 1, rdzvEndpoint: null, rdzvId: 'contract', maxRestarts: 0}),
]

function spec(script: string, extra: Partial<LaunchSpec> = {}): LaunchSpec & {dir: string} {
  const dir = tempDir()
  return {dir, command: 'bash', args: ['-c', script, 'arg0', 'first arg'], cwd: dir, env: {MLX_TEST_VALUE: 'from env'}, stdoutFile: join(dir, 'out.log'), stderrFile: join(dir, 'err.log'), ...extra}
}

/**
 * Launches a shell script that runs `setup` (its traps), then starts `sleep 300` in the
 * background; returns once the sleeper's pid is known, so the traps are in place by then.
 */
async function launchTree(launcher: Launcher, setup: string) {
  const s = spec(`${setup}; sleep 300 & echo $! > child.pid; wait`)
  const child = launcher.launch(s)
  const pidFile = join(s.dir, 'child.pid')
  await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 10_000)
  return {s, child, grandchild: Number(readFileSync(pidFile, 'utf8'))}
}

describe.each(launchers.map((launcher) => [launcher.name, launcher] as const))('launcher %s', (_name, launcher) => {
  it('runs the command with its args, cwd and env, output to files, and reports exit 0', async () => {
    const s = spec('echo "$1|$PWD|$MLX_TEST_VALUE"; echo oops >&2')
    const outcome = await launcher.launch(s).done
    expect(outcome).toEqual({exitCode: 0, signal: null})
    expect(readFileSync(s.stdoutFile, 'utf8')).toBe(`first arg|${s.dir}|from env\n`)
    expect(readFileSync(s.stderrFile, 'utf8')).toBe('oops\n')
  })

  it('reports a failing exit code', async () => {
    expect(await launcher.launch(spec('exit 7')).done).toEqual({exitCode: 7, signal: null})
  })

  it('reports a command that cannot start without throwing', async () => {
    const outcome = await launcher.launch(spec('', {command: '/nonexistent/python'})).done
    expect(outcome.exitCode === 0).toBe(false)
  })

  it('interrupt reaches the whole process tree, which may clean up', async () => {
    const {s, child, grandchild} = await launchTree(launcher, `trap 'echo cleaned > cleanup.txt; kill $!; exit 130' INT`)
    child.interrupt()
    const outcome = await child.done
    expect(outcome.exitCode === 130 || outcome.signal === 'SIGINT').toBe(true)
    expect(readFileSync(join(s.dir, 'cleanup.txt'), 'utf8')).toBe('cleaned\n')
    await waitFor(() => !alive(grandchild))
  })

  it('kill ends a process tree that ignores interrupts', async () => {
    const {child, grandchild} = await launchTree(launcher, 'trap "" INT')
    child.interrupt()
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(alive(child.pid)).toBe(true)
    child.kill()
    expect(await child.done).toEqual({exitCode: null, signal: 'SIGKILL'})
    await waitFor(() => !alive(grandchild))
  })
})
