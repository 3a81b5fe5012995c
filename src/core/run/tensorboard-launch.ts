/** Starting TensorBoard for `mlx tensorboard`: in the foreground, its output on the terminal, until it ends or Ctrl-C. */
import {execa} from 'execa'
import {ExitCode, MlxError, UserError} from '../errors.js'

/** Runs `command` (python -m tensorboard.main ...); Ctrl-C stops TensorBoard and ends here with exit 130. */
export async function launchTensorBoard(command: readonly string[]): Promise<void> {
  const [python, ...args] = command
  let interrupted = false
  const onInterrupt = () => {
    interrupted = true
  }
  process.on('SIGINT', onInterrupt)
  try {
    const result = await execa(python!, args, {stdio: 'inherit', reject: false})
    if (interrupted || result.signal === 'SIGINT') throw new MlxError('TensorBoard stopped', ExitCode.interrupted)
    if (result.failed && result.exitCode === undefined)
      throw new UserError(
        `could not start ${python}: ${result.shortMessage}`,
        'pass --python, or mlx doctor shows what is found',
      )
    if (result.exitCode !== 0)
      throw new UserError(
        `TensorBoard ended with exit ${result.exitCode}`,
        `TensorBoard comes with mlx's Python (make setup); with another interpreter, pip install tensorboard there`,
      )
  } finally {
    process.off('SIGINT', onInterrupt)
  }
}
