// ESLint flat config: eslint's and typescript-eslint's recommended rules, the type-checked ones
// included (they read the same tsconfig.json as the build), plus a few house rules. Layout and
// other formatting are Prettier's job: eslint-config-prettier, last, turns off every rule that
// would disagree with it.
import js from '@eslint/js'
import { defineConfig } from 'eslint/config'
import prettier from 'eslint-config-prettier'
import globals from 'globals'
import tseslint from 'typescript-eslint'

// the unsafe-any family: reading a value typed `any` without narrowing it first
const unsafeAny = {
  '@typescript-eslint/no-explicit-any': 'off',
  '@typescript-eslint/no-unsafe-argument': 'off',
  '@typescript-eslint/no-unsafe-assignment': 'off',
  '@typescript-eslint/no-unsafe-call': 'off',
  '@typescript-eslint/no-unsafe-member-access': 'off',
  '@typescript-eslint/no-unsafe-return': 'off',
}

export default defineConfig(
  { ignores: ['dist/', 'coverage/', 'node_modules/', 'bench/results/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test runs what test() and describe() return; nobody awaits them at the top level
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      // verbatimModuleSyntax keeps every import not marked `type`: mark them, inline in the braces.
      // `import('node:tls').X` in a type position imports nothing, so it stays allowed.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      // same convention as tsc's noUnusedLocals/noUnusedParameters: a leading _ marks it deliberate
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // async on a synchronous implementation of an async interface is deliberate: a throw becomes a rejection
      '@typescript-eslint/require-await': 'off',
      // flags String(err.cause ?? err), which the store-error logging uses on purpose (cause is typed unknown)
      '@typescript-eslint/no-base-to-string': 'off',
      // the WAF and the normalisers match control characters on purpose
      'no-control-regex': 'off',
      // an empty catch leaves the fallback value set before the try
      'no-empty': ['error', { allowEmptyCatch: true }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
      'no-console': 'error',
    },
  },
  {
    // walks the raw YAML after the JSON Schema check, typed Record<string, any> on purpose
    files: ['src/config/load.ts'],
    rules: { ...unsafeAny, '@typescript-eslint/restrict-template-expressions': 'off' },
  },
  {
    // Tests and tools read JSON bodies and child output loosely; a wrong type there fails the
    // test or the run, not a request. (The unsafe-any rules alone fire about 400 times in test/.)
    files: ['test/**', 'bench/**', 'examples/**'],
    rules: {
      ...unsafeAny,
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/restrict-plus-operands': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // The JavaScript files (these configs, bin/) are outside tsconfig.json: no type information
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // Command-line programs: printing is what they do
    files: ['src/cli/**', 'bench/**', 'examples/**', 'bin/**'],
    rules: { 'no-console': 'off' },
  },
  prettier,
)
