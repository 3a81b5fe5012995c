/**
 * `make`: zod and yaml, bundled each into one module (dist/vendor/), and the compiled code pointed
 * at them. Every `mlx run` and `mlx validate` loads both before it can read a config: as one module
 * each they load sooner than as their hundred-odd files (bench/startup.mjs). The tests import
 * src/, which keeps importing the packages themselves.
 */
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import * as esbuild from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')
const vendor = join(dist, 'vendor')
const PACKAGES = ['zod', 'yaml']

for (const name of PACKAGES) {
  // Named one by one: `export *` of a CommonJS package (yaml) gives a bundle no named exports.
  const names = Object.keys(await import(name)).filter((key) => key !== 'default' && /^[A-Za-z_$][\w$]*$/.test(key))
  await esbuild.build({
    stdin: {contents: `export {${names.join(', ')}} from '${name}'`, resolveDir: root, loader: 'js'},
    outfile: join(vendor, `${name}.js`),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    // yaml's CommonJS asks for node's own modules with require().
    banner: {
      js: "import {createRequire as mlxCreateRequire} from 'node:module'; const require = mlxCreateRequire(import.meta.url);",
    },
  })
}

/** Every compiled module (the UI bundle and the vendored ones aside), its imports of the packages made relative. */
const specifier = new RegExp(`(\\bfrom\\s*|\\bimport\\(\\s*)(['"])(${PACKAGES.join('|')})\\2`, 'g')
for (const entry of readdirSync(dist, {recursive: true, withFileTypes: true})) {
  const file = join(entry.parentPath, entry.name)
  if (
    !entry.isFile() ||
    !file.endsWith('.js') ||
    file.startsWith(vendor + '/') ||
    file === join(dist, 'ui', 'render.js')
  )
    continue
  const source = readFileSync(file, 'utf8')
  const pointed = source.replace(specifier, (_, keyword, quote, name) =>
    `${keyword}${quote}./${relative(dirname(file), join(vendor, `${name}.js`))}${quote}`.replace('./../', '../'),
  )
  if (pointed !== source) writeFileSync(file, pointed)
}
