/**
 * The contract every launcher keeps (Hydra's launcher tests are the model): run a
 * command with its args, cwd and env; send its output to the given files; report its
 * exit code; stop the whole process tree on interrupt or kill; and, from its ref alone
 * (another mlx: mlx stop, catching up with runs), tell whether it runs and stop it.
 * test/unit/launcher-contract.test.ts holds local and torchrun to it, test/slurm Slurm.
 */
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect, it} from 'vitest'
import type {Launcher, LaunchSpec} from '../../src/core/launch/launcher.js'
import {tempDir} from './cli.js'
import {alive, waitFor} from './process.js'

function spec(script: string, extra: Partial<LaunchSpec> = {}): LaunchSpec & {dir: string} {
  const dir = tempDir()
  return {
    dir,
    command: 'bash',
    args: ['-c', script, 'arg0', 'first arg'],
    cwd: dir,
    env: {MLX_TEST_VALUE: 'from env'},
    stdoutFile: join(dir, 'out.log'),
    stderrFile: join(dir, 'err.log'),
    ...extra,
  }
}

/** The contract's tests, for a launcher made in the folder of each test's command (a batch script goes there). */
export function launcherContract(makeLauncher: (dir: string) => Launcher): void {
  const launch = (s: LaunchSpec & {dir: string}) => {
    const launcher = makeLauncher(s.dir)
    return {launcher, child: launcher.launch(s)}
  }

  /**
   * Launches a shell script that runs `setup` (its traps), then starts `sleep 300` in the
   * background; returns once the sleeper's pid is known, so the traps are in place by then.
   */
  async function launchTree(setup: string) {
    const s = spec(`${setup}; sleep 300 & echo $! > child.pid; wait`)
    const {launcher, child} = launch(s)
    const pidFile = join(s.dir, 'child.pid')
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 60_000)
    return {s, launcher, child, grandchild: Number(readFileSync(pidFile, 'utf8'))}
  }

  it('runs the command with its args, cwd and env, output to files, and reports exit 0', async () => {
    const s = spec('echo "$1|$PWD|$MLX_TEST_VALUE"; echo oops >&2')
    const outcome = await launch(s).child.done
    expect(outcome).toMatchObject({exitCode: 0, signal: null})
    expect(readFileSync(s.stdoutFile, 'utf8')).toBe(`first arg|${s.dir}|from env\n`)
    expect(readFileSync(s.stderrFile, 'utf8')).toBe('oops\n')
  })

  it('reports a failing exit code', async () => {
    expect(await launch(spec('exit 7')).child.done).toMatchObject({exitCode: 7, signal: null})
  })

  it('reports a command that cannot start without throwing', async () => {
    const outcome = await launch(spec('', {command: '/nonexistent/python'})).child.done
    expect(outcome.exitCode === 0).toBe(false)
  })

  it('interrupt reaches the whole process tree, which may clean up', async () => {
    const {s, child, grandchild} = await launchTree(`trap 'echo cleaned > cleanup.txt; kill $!; exit 130' INT`)
    child.interrupt()
    const outcome = await child.done
    expect(outcome.exitCode === 130 || outcome.signal === 'SIGINT').toBe(true)
    expect(readFileSync(join(s.dir, 'cleanup.txt'), 'utf8')).toBe('cleaned\n')
    await waitFor(() => !alive(grandchild))
  })

  it('kill ends a process tree that ignores interrupts', async () => {
    const {launcher, child, grandchild} = await launchTree('trap "" INT')
    child.interrupt()
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(launcher.alive(child.ref)).toBe(true)
    child.kill()
    const outcome = await child.done
    expect(outcome.exitCode === 0).toBe(false)
    await waitFor(() => !alive(grandchild))
  })

  it('from its ref alone: alive while it runs, stopped by stop(kill), then not alive', async () => {
    const {launcher, child, grandchild} = await launchTree('trap "" INT')
    expect(launcher.alive(child.ref)).toBe(true)
    launcher.stop(child.ref, 'kill')
    await child.done
    await waitFor(() => !launcher.alive(child.ref) && !alive(grandchild))
  })
}
