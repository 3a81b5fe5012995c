/**
 * The sweep's sampler and pruner: Optuna in a Python child (mlx_runtime/sweep.py), one JSON
 * request line and one answer line at a time. mlx numbers the trials; the child's study is
 * rebuilt from the store's trials at every start, so it holds nothing the runs do not.
 */
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {createInterface} from 'node:readline'
import {ExitCode, MlxError} from '../errors.js'
import {runtimeEnv, type PythonChoice} from '../project/python.js'
import type {SweepSpec} from './spec.js'

export type TrialState = 'complete' | 'pruned' | 'fail'
export type Params = Record<string, unknown>

/** A finished trial as the study is rebuilt from it. */
export interface FinishedTrial {
  number: number
  params: Params
  state: TrialState
  values: number[] | null
  intermediate: Array<[number, number]>
}

export class Sampler {
  private readonly answers: AsyncIterator<string>
  private queue: Promise<unknown> = Promise.resolve()
  private stderr = ''

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.answers = createInterface({input: child.stdout})[Symbol.asyncIterator]()
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4000)
    })
  }

  /**
   * `baseline`: the config's own values, tried first when the study is new (not by a grid);
   * `referenceTrial`: the trial that holds them, which the pruner never stops.
   */
  static async start(
    python: PythonChoice,
    spec: SweepSpec,
    history: FinishedTrial[],
    baseline: Params | null,
    referenceTrial: number | null,
  ): Promise<Sampler> {
    const child = spawn(python.command, ['-m', 'mlx_runtime.sweep'], {
      env: {...process.env, ...runtimeEnv(), PYTHONWARNINGS: 'ignore'},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const sampler = new Sampler(child)
    await sampler.request({
      op: 'start',
      method: spec.method,
      directions: spec.objectives.map((objective) => (objective.goal === 'max' ? 'maximize' : 'minimize')),
      space: spec.space,
      seed: spec.samplerSeed,
      prune: {
        method: spec.prune.method,
        min_epochs: spec.prune.minEpochs,
        reduction: spec.prune.reduction,
        max_epochs: spec.prune.maxEpochs,
      },
      history,
      baseline,
      reference_trial: referenceTrial,
    })
    return sampler
  }

  ask(number: number): Promise<Params> {
    return this.request({op: 'ask', number}).then((answer) => answer.params as Params)
  }

  /** A trial that goes on from where it stopped, with the values it had reported. */
  adopt(number: number, params: Params, intermediate: Array<[number, number]>): Promise<void> {
    return this.request({op: 'adopt', number, params, intermediate}).then(() => {})
  }

  report(number: number, step: number, value: number): Promise<boolean> {
    return this.request({op: 'report', number, step, value}).then((answer) => answer.prune === true)
  }

  tell(number: number, state: TrialState, values: number[] | null): Promise<void> {
    return this.request({op: 'tell', number, state, values}).then(() => {})
  }

  close(): void {
    this.child.stdin.end()
  }

  /** One request at a time, in the order they were made. */
  private request(message: Record<string, unknown>): Promise<Record<string, unknown>> {
    const answer = this.queue.then(async () => {
      this.child.stdin.write(JSON.stringify(message) + '\n')
      const line = await this.answers.next()
      if (line.done) {
        await new Promise((resolve) => setTimeout(resolve, 50))
        throw new MlxError(
          `the sweep's sampler (Optuna: python -m mlx_runtime.sweep) stopped: ${this.stderr.trim().split('\n').slice(-3).join(' ') || 'no message'}`,
          ExitCode.failed,
          'the running trials were stopped with a checkpoint: mlx sweep resume continues them (mlx doctor checks the Python; make setup installs optuna)',
        )
      }
      const parsed = JSON.parse(line.value) as Record<string, unknown>
      if (typeof parsed.error === 'string')
        throw new MlxError(
          `the sweep's sampler refused ${String(message.op)}: ${parsed.error}`,
          ExitCode.failed,
          'the running trials were stopped with a checkpoint: mlx sweep resume continues them',
        )
      return parsed
    })
    this.queue = answer.catch(() => {})
    return answer
  }
}
