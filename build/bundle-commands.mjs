/**
 * `make`: the command table bundled with oclif into dist/commands/index.js. oclif is a hundred-odd
 * CommonJS files; loaded as one module, every command starts sooner (bench/startup.mjs). Everything else stays
 * a module of its own (mlx's core, yaml, zod, execa, better-sqlite3, the UI bundle), loaded when a
 * command needs it, from the same relative place as before; bin/run.js takes oclif's `execute` from
 * here too, so there is one oclif in the process.
 */
import {dirname, join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import * as esbuild from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const commands = join(root, 'src', 'commands')
const baseCommand = join(root, 'src', 'base-command')
const help = join(root, 'src', 'help')
const outfile = join(root, 'dist', 'commands', 'index.js')
/** The commands, the base class they share and the help class come into the bundle; everything else stays out. */
const bundled = (file) => file.startsWith(commands + '/') || [baseCommand, help].includes(file.replace(/\.[jt]s$/, ''))

/**
 * Imports from the commands: the command modules and oclif (with what it imports) go in; the rest
 * stays out, pointed at from the bundle: what a command imports as it runs must not load at start.
 */
const keepOut = {
  name: 'keep-out',
  setup(build) {
    build.onResolve({filter: /.*/}, (args) => {
      if (args.kind === 'entry-point' || !bundled(args.importer)) return undefined
      if (args.path.startsWith('.')) {
        const target = resolve(dirname(args.importer), args.path)
        // A command's own modules come in, except those it imports when it runs (their imports would load at start).
        if (bundled(target) && args.kind !== 'dynamic-import') return undefined
        const compiled = join(root, 'dist', relative(join(root, 'src'), target))
        return {path: `./${relative(dirname(outfile), compiled)}`.replace('./../', '../'), external: true}
      }
      const pkg = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0]
      return pkg === '@oclif/core' ? undefined : {path: args.path, external: true}
    })
  },
}

await esbuild.build({
  entryPoints: [join(commands, 'index.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  // oclif's development mode alone reads TypeScript: never in the compiled CLI.
  external: ['typescript', 'tsx', 'ts-node'],
  plugins: [keepOut],
  logLevel: 'warning',
  banner: {
    js: "import {createRequire as mlxCreateRequire} from 'node:module'; const require = mlxCreateRequire(import.meta.url);",
  },
})
