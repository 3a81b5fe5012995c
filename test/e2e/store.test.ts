/**
 * The store under faults, as a user meets them: an index deleted, emptied or damaged, a copied
 * or moved project, a read-only one, two resumes at once, a run caught up with late, a torn line
 * before a resume, a full disk during a run. Real CLI processes, real training, a real SQLite file.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import {join} from 'node:path'
import {execa} from 'execa'
import {beforeAll, describe, expect, it} from 'vitest'
import {processAlive} from '../../src/core/launch/processes.js'
import {cli, cliEnv, binRun, startCli, tempDir, tempProject} from '../helpers/cli.js'
import {MINIMAL_CONFIG, waitFor} from '../helpers/process.js'
import {metricsInFile, metricsInStore} from '../helpers/store-check.js'

const FAILING_SCRIPT = 'import sys\nprint("loss=1.5", flush=True)\nprint("loss=NaN", flush=True)\nsys.exit(3)\n'

/** A project with the runs every test here starts from: a resumed and tagged run, a renamed one, a failed one. */
let base: string
beforeAll(async () => {
  base = tempProject({
    'c.yaml': MINIMAL_CONFIG,
    'fail.py': FAILING_SCRIPT,
    'fail.yaml': 'name: fails\ntask: script\nscript: {path: fail.py}\n',
  })
  const ok = async (args: string[], expected = 0) => {
    const result = await cli(args, {cwd: base})
    expect(result.exitCode, `${args.join(' ')}\n${result.stderr}`).toBe(expected)
    return result
  }
  await ok(['run', 'c.yaml', '--name', 'a'])
  await ok(['resume', 'a', '--set', 'train.epochs=3'])
  await ok(['tag', 'a', 'good'])
  await ok(['run', 'c.yaml', '--name', 'b', '--set', 'optim.lr=0.01', '--set', 'train.epochs=1'])
  await ok(['rename', 'b', 'b-renamed'])
  await ok(['run', 'fail.yaml'], 1)
}, 240_000)

/** A copy of the base project in a folder of its own. */
function copyOfBase(name = 'project'): string {
  const project = join(tempDir(), name)
  cpSync(base, project, {recursive: true})
  return project
}

/** What the commands that read runs say of them (everything from files and the index, as JSON). */
async function views(project: string): Promise<{compare: unknown; runs: unknown; show: unknown[]}> {
  const json = async (args: string[]) => {
    const result = await cli([...args, '--json'], {cwd: project})
    expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).toBe(0)
    return JSON.parse(result.stdout) as unknown
  }
  const runs = (await json(['runs'])) as Array<{id: string}>
  return {
    compare: await json(['compare', '--all-params']),
    runs,
    show: await Promise.all(runs.map((run) => json(['show', run.id]))),
  }
}

const indexFile = (project: string) => join(project, '.mlx', 'mlx.db')

describe('the index is rebuilt from the run directories', () => {
  it.each([
    ['deleted', (file: string) => rmSync(file)],
    ['emptied', (file: string) => truncateSync(file, 0)],
    [
      'left without its rows',
      async (file: string) => {
        const {default: Database} = await import('better-sqlite3')
        const db = new Database(file)
        db.exec('DELETE FROM runs')
        db.close()
      },
    ],
  ])('an index %s: mlx says so, and compare, runs and show give what they gave before', async (_, damage) => {
    const project = copyOfBase()
    const before = await views(project)
    expect((before.runs as unknown[]).length).toBe(3)
    await damage(indexFile(project))
    const listed = await cli(['runs'], {cwd: project})
    expect(listed.exitCode).toBe(0)
    expect(listed.stderr).toMatch(
      /^mlx: the index lacked 3 runs found in \.mlx\/runs: indexed from their run\.json, config\.json and metrics\.jsonl$/m,
    )
    expect(await views(project)).toEqual(before)
  })

  it('a damaged index: commands say which file and what to do (exit 1, no trace), doctor too; mlx store rebuild brings back the same runs', async () => {
    const project = copyOfBase()
    const before = await views(project)
    writeFileSync(indexFile(project), Buffer.alloc(16384, 'not a database; '))
    for (const args of [['runs'], ['compare', '--json'], ['show', 'a'], ['run', 'c.yaml']]) {
      const refused = await cli(args, {cwd: project})
      expect(refused.exitCode, args.join(' ')).toBe(1)
      expect(refused.stderr).toBe(
        'error: the index .mlx/mlx.db is damaged (file is not a database)\nhint: mlx store rebuild moves it aside and rebuilds it from the run directories, where nothing was lost',
      )
    }
    expect(readdirSync(join(project, '.mlx', 'runs'))).toHaveLength(3)
    const doctor = await cli(['doctor', '--json'], {cwd: project})
    expect(doctor.exitCode).toBe(1)
    expect(JSON.parse(doctor.stdout).store).toMatchObject({
      ok: false,
      runs: null,
      problems: ['the index .mlx/mlx.db is damaged (file is not a database)'],
    })

    const rebuilt = await cli(['store', 'rebuild', '--json'], {cwd: project})
    expect(rebuilt.exitCode, rebuilt.stderr).toBe(0)
    const report = JSON.parse(rebuilt.stdout)
    expect(report.indexed).toHaveLength(3)
    expect(report.skipped).toEqual([])
    expect(readFileSync(report.movedTo, 'utf8')).toMatch(/^not a database; /)
    expect(await views(project)).toEqual(before)
    const healthy = await cli(['doctor', '--json'], {cwd: project})
    expect(JSON.parse(healthy.stdout).store).toMatchObject({ok: true, runs: 3, problems: []})
  })
})

describe('a copied or moved project works on its own files', () => {
  it("rm removes the copy's run directory, not the original's; resume trains into the copy; after a move, resume and rm still find the run", async () => {
    const original = join(base, '.mlx', 'runs')
    const originalMetrics = readFileSync(join(original, readdirSync(original)[0]!, 'metrics.jsonl'))
    const [runA] = (
      JSON.parse((await cli(['runs', '--json'], {cwd: base})).stdout) as Array<{id: string; name: string}>
    ).filter((run) => run.name === 'a')

    const copy = copyOfBase()
    expect((await cli(['rm', 'a', '--yes'], {cwd: copy})).exitCode).toBe(0)
    expect(existsSync(join(copy, '.mlx', 'runs', runA!.id))).toBe(false)
    expect(existsSync(join(original, runA!.id))).toBe(true)

    const second = copyOfBase()
    const resumed = await cli(['resume', 'a', '--set', 'train.epochs=4', '--json'], {cwd: second})
    expect(resumed.exitCode, resumed.stderr).toBe(0)
    expect(JSON.parse(resumed.stdout).runDir).toBe(join(second, '.mlx', 'runs', runA!.id))
    expect(readFileSync(join(original, readdirSync(original)[0]!, 'metrics.jsonl'))).toEqual(originalMetrics)

    const moved = join(tempDir(), 'moved')
    renameSync(second, moved)
    const again = await cli(['resume', 'a', '--set', 'train.epochs=5', '--json'], {cwd: moved})
    expect(again.exitCode, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout).metrics['val/acc'].count).toBe(5)
    expect((await cli(['rm', 'a', '--yes'], {cwd: moved})).exitCode).toBe(0)
    expect(existsSync(join(moved, '.mlx', 'runs', runA!.id))).toBe(false)
  })
})

describe('one run, one place at a time', () => {
  it('two resumes of one run at once: one trains, the other is refused (exit 2) naming who holds it; no step is logged twice', async () => {
    const project = copyOfBase()
    // Seven more epochs: the second resume asks long before the first has finished, even on a loaded machine.
    const [first, second] = await Promise.all([
      cli(['resume', 'a', '--set', 'train.epochs=10'], {cwd: project}),
      cli(['resume', 'a', '--set', 'train.epochs=10'], {cwd: project}),
    ])
    const codes = [first.exitCode, second.exitCode].sort()
    expect(codes, first.stderr + second.stderr).toEqual([0, 2])
    const refused = first.exitCode === 2 ? first : second
    expect(refused.stderr).toMatch(/^error: run [0-9a-f]{10} is (already|still) running/m)
    const record = JSON.parse((await cli(['show', 'a', '--json'], {cwd: project})).stdout)
    const stored = await metricsInStore(join(project, '.mlx'), record.id)
    expect(stored).toEqual(metricsInFile(record.runDir))
    const steps = stored.filter((row) => row.key === 'train/loss').map((row) => row.step)
    expect(new Set(steps).size).toBe(steps.length)
    expect(record.metrics['val/acc'].count).toBe(10)
  })

  it('mlx stop while a run is finishing (its end logged) lets it finish: completed, not interrupted', async () => {
    const script = [
      'import time',
      'from mlx_runtime import MetricsWriter',
      'metrics = MetricsWriter()',
      'metrics.log({"val/loss": 0.5}, step=1)',
      'metrics.event("end", step=1)',
      'metrics.close()',
      'time.sleep(3)  # a slow teardown after the work is done',
    ].join('\n')
    const project = tempProject({
      'finish.py': script,
      'c.yaml': 'name: finishing\ntask: script\nscript: {path: finish.py}\n',
    })
    const run = startCli(['run', 'c.yaml', '--json'], {cwd: project})
    await waitFor(
      () =>
        existsSync(join(project, '.mlx', 'runs')) &&
        readdirSync(join(project, '.mlx', 'runs')).some((id) => {
          const file = join(project, '.mlx', 'runs', id, 'metrics.jsonl')
          return existsSync(file) && readFileSync(file, 'utf8').includes('"event":"end"')
        }),
    )
    const stopped = await cli(['stop', 'finishing', '--json'], {cwd: project})
    expect(stopped.exitCode, stopped.stderr).toBe(0)
    expect(JSON.parse(stopped.stdout)).toMatchObject({status: 'completed', killed: false})
    const finished = await run
    expect(finished.exitCode, String(finished.stderr)).toBe(0)
    expect(JSON.parse(String(finished.stdout)).status).toBe('completed')
  })
})

describe('what a run leaves is read as it was written', () => {
  it('a run caught up with late keeps the time it trained, not the time until someone looked', async () => {
    const project = tempProject({'c.yaml': MINIMAL_CONFIG.replace('epochs: 2', 'epochs: 4')})
    const mlx = startCli(['run', 'c.yaml'], {cwd: project})
    const runs = join(project, '.mlx', 'runs')
    await waitFor(
      () =>
        existsSync(runs) &&
        readdirSync(runs).length === 1 &&
        existsSync(join(runs, readdirSync(runs)[0]!, 'run.json')) &&
        JSON.parse(readFileSync(join(runs, readdirSync(runs)[0]!, 'run.json'), 'utf8')).pid !== null,
    )
    const runDir = join(runs, readdirSync(runs)[0]!)
    const trainer = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).pid as number
    mlx.kill('SIGKILL')
    await mlx.catch(() => {})
    await waitFor(() => !processAlive(trainer), 120_000)
    const lastWrite = statSync(join(runDir, 'metrics.jsonl')).mtimeMs / 1000
    await new Promise((resolve) => setTimeout(resolve, 4000))
    const shown = JSON.parse((await cli(['show', readdirSync(runs)[0]!, '--json'], {cwd: project})).stdout)
    expect(shown.status).toBe('completed')
    const ended = Date.parse(shown.endedAt) / 1000
    expect(ended).toBeLessThanOrEqual(lastWrite + 1)
    expect(shown.durationSeconds).toBeLessThan(Date.now() / 1000 - Date.parse(shown.startedAt) / 1000 - 3)
  })

  it('a torn last line, then mlx resume: the fragment is no record (not even read again from the start), the resume counts, no step twice', async () => {
    const project = copyOfBase()
    const record = JSON.parse((await cli(['show', 'b-renamed', '--json'], {cwd: project})).stdout)
    // A kill cut a line short; this fragment happens to be whole JSON, only its newline missing.
    writeFileSync(
      join(record.runDir, 'metrics.jsonl'),
      '{"v":1,"t":1,"kind":"metrics","step":1,"values":{"val/acc":5.0}}',
      {flag: 'a'},
    )
    const resumed = await cli(['resume', 'b-renamed', '--set', 'train.epochs=2', '--json'], {cwd: project})
    expect(resumed.exitCode, resumed.stderr).toBe(0)
    const after = JSON.parse(resumed.stdout)
    expect(after.metrics['val/acc'].best).toBeLessThanOrEqual(1)
    expect(after.ingest).toMatchObject({badLines: 0, tornLines: 1})
    const text = readFileSync(join(record.runDir, 'metrics.jsonl'), 'utf8')
    expect(text).toMatch(
      /\n#"v":1,"t":1,"kind":"metrics","step":1,"values":\{"val\/acc":5\.0\}\}\n\{"v":1,"t":[\d.]+,"kind":"event","event":"resume"/,
    )
    const stored = await metricsInStore(join(project, '.mlx'), record.id)
    expect(stored).toEqual(metricsInFile(record.runDir))
    // Rebuilt from the file, the index says the same.
    const before = await views(project)
    rmSync(indexFile(project))
    expect(await views(project)).toEqual(before)
  })
})

describe('a read-only store is read, never written', () => {
  const asNobody = async (project: string, args: string[]) => {
    const result = await execa(
      'setpriv',
      ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'node', binRun, ...args],
      {cwd: project, env: {...cliEnv(), HOME: '/nonexistent'}, reject: false},
    )
    return {exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr)}
  }
  const root = process.getuid?.() === 0

  it.skipIf(!root)(
    "another user's project: runs, compare and show answer; run, resume, rm, tag, rename, stop and store rebuild refuse with the reason (exit 2)",
    async () => {
      const project = copyOfBase()
      // Readable by everyone, writable by its owner (root) alone: another user's project.
      await execa('chmod', ['-R', 'a+rX,go-w', join(project, '..')])
      const before = await views(project)
      for (const args of [
        ['runs', '--json'],
        ['compare', '--all-params', '--json'],
        ['show', 'a', '--json'],
      ]) {
        const read = await asNobody(project, args)
        expect(read.exitCode, read.stderr).toBe(0)
        expect(read.stderr).toMatch(
          /^mlx: the store \.mlx is read-only \(EACCES: no permission to write \.mlx\): shown as it is/m,
        )
      }
      expect(JSON.parse((await asNobody(project, ['compare', '--all-params', '--json'])).stdout)).toEqual(
        before.compare,
      )
      for (const args of [
        ['run', 'c.yaml'],
        ['resume', 'a'],
        ['rm', 'a', '--yes'],
        ['tag', 'a', 'x'],
        ['rename', 'a', 'z'],
        ['stop', 'a'],
        ['store', 'rebuild'],
      ]) {
        const refused = await asNobody(project, args)
        expect(refused.exitCode, args.join(' ')).toBe(2)
        expect(refused.stderr, args.join(' ')).toMatch(
          /^error: the store \.mlx is read-only \(EACCES: no permission to write \.mlx\)/m,
        )
      }
      expect(await views(project)).toEqual(before)
    },
  )

  it.skipIf(!root)(
    'a read-only mount, its index missing: the runs are read from their directories in memory',
    async () => {
      const project = copyOfBase()
      const before = await views(project)
      rmSync(indexFile(project))
      const mount = join(tempDir(), 'ro')
      mkdirSync(mount)
      const mounted = await execa('mount', ['--bind', '-o', 'ro', project, mount], {reject: false})
      if (mounted.exitCode !== 0) {
        console.warn(`skipping the read-only mount case: mount --bind -o ro failed (${String(mounted.stderr).trim()})`)
        return
      }
      try {
        const listed = await cli(['compare', '--all-params', '--json'], {cwd: mount})
        expect(listed.exitCode, listed.stderr).toBe(0)
        expect(listed.stderr).toMatch(/read-only \(EROFS: a read-only file system\)/)
        expect(JSON.parse(listed.stdout)).toEqual(before.compare)
        const removed = await cli(['rm', 'a', '--yes'], {cwd: mount})
        expect(removed.exitCode).toBe(2)
        expect(removed.stderr).toMatch(
          /^error: the store \.mlx is read-only \(EROFS: a read-only file system\): this command writes to it$/m,
        )
      } finally {
        await execa('umount', [mount], {reject: false})
      }
    },
  )
})

describe('a full disk during a run', () => {
  it.skipIf(process.getuid?.() !== 0)(
    'the trainer stops with a message, mlx follows it to its end and says where everything is (exit 1); nothing written is lost',
    async () => {
      const disk = join(tempDir(), 'small-disk')
      mkdirSync(disk)
      const mounted = await execa('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', disk], {reject: false})
      if (mounted.exitCode !== 0) {
        console.warn(`skipping the full-disk case: mount -t tmpfs failed (${String(mounted.stderr).trim()})`)
        return
      }
      try {
        const project = tempProject({'c.yaml': MINIMAL_CONFIG.replace('epochs: 2', 'epochs: 400')})
        const env = {MLX_HOME: join(disk, 'store')}
        const run = startCli(['run', 'c.yaml', '--set', 'train.log_every=1'], {cwd: project, env})
        const runs = join(disk, 'store', 'runs')
        const metrics = () => join(runs, readdirSync(runs)[0]!, 'metrics.jsonl')
        await waitFor(
          () =>
            existsSync(runs) &&
            readdirSync(runs).length === 1 &&
            existsSync(metrics()) &&
            readFileSync(metrics(), 'utf8').includes('"event":"epoch_end"'),
        )
        const runDir = join(runs, readdirSync(runs)[0]!)
        // What is left of the disk, taken: the next writes of the trainer and of mlx are refused.
        await execa('sh', ['-c', `dd if=/dev/zero of=${join(disk, 'filler')} bs=64k`], {reject: false})
        const finished = await run
        expect(finished.exitCode).toBe(1)
        const stderr = String(finished.stderr)
        expect(stderr).not.toMatch(/^\s+at /m)
        expect(stderr).toMatch(/every line it logged is in .*runs\/[0-9a-f]{10}\/metrics\.jsonl/)
        const trainer = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).pid as number
        expect(processAlive(trainer)).toBe(false)
        rmSync(join(disk, 'filler'))
        const shown = await cli(['show', readdirSync(runs)[0]!, '--json'], {cwd: project, env})
        expect(shown.exitCode, shown.stderr).toBe(0)
        const record = JSON.parse(shown.stdout)
        expect(record.status).toBe('failed')
        expect(await metricsInStore(join(disk, 'store'), record.id)).toEqual(metricsInFile(runDir))
        expect(record.metrics['train/loss'].count).toBeGreaterThan(23)
      } finally {
        await execa('umount', ['-l', disk], {reject: false})
      }
    },
  )
})
