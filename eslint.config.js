// ESLint as oclif's generator sets it up: the recommended rules of ESLint and typescript-eslint,
// with formatting left to Prettier (eslint-config-prettier turns off the rules it owns).
import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/', 'node_modules/', '.venv/', '.mlx/', 'python/', 'templates/']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: {globals: {...globals.node}},
    // `const {a, ...rest} = x` is how a field is left out of a copy.
    rules: {'@typescript-eslint/no-unused-vars': ['error', {ignoreRestSiblings: true}]},
  },
)
