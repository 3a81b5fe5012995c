/**
 * ink-testing-library's way of rendering (a stdout stand-in that keeps frames, debug mode),
 * with a terminal width of our choosing: ink-testing-library fixes it at 100 columns.
 */
import {EventEmitter} from 'node:events'
import {render} from 'ink'
import type {ReactElement} from 'react'

class Screen extends EventEmitter {
  lastFrame = ''
  constructor(readonly columns: number) {
    super()
  }
  write = (frame: string) => {
    this.lastFrame = frame
  }
}

class Keyboard extends EventEmitter {
  isTTY = true
  setRawMode() {}
  setEncoding() {}
  read() {
    return null
  }
  ref() {}
  unref() {}
}

export function renderAtWidth(tree: ReactElement, columns: number): string {
  const stdout = new Screen(columns)
  const instance = render(tree, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: new Screen(columns) as unknown as NodeJS.WriteStream,
    stdin: new Keyboard() as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  })
  // Taken before unmount: with CI set, ink's unmount writes one more, empty, frame.
  const frame = stdout.lastFrame
  instance.unmount()
  return frame
}
