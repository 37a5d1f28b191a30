// ESLint: typescript-eslint's type-checked recommendations, plus the rules this project keeps (no floating
// promises, no empty catch without a comment saying why, type-only imports marked, short functions);
// formatting is Prettier's (eslint-config-prettier turns off the rules it owns).
// The type-checked rules judge the product (src, workers, bench: tsconfig.build.json's program); the tests
// get the rules that need no types, which halves a cold run. The tests' types are tsc's to check
// (`npm run typecheck`, which .ci/run runs), and Vitest itself reports an assertion left unawaited.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'vendor/', 'data/', 'test-output/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: ['./tsconfig.build.json'], tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // An empty block, a catch included, needs a comment saying why nothing is done.
      'no-empty': ['error', { allowEmptyCatch: false }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs', 'test/**', 'vitest.config.ts'],
    ...tseslint.configs.disableTypeChecked,
  },
  // The 80-line bound is for the product's code: tests, benchmarks and simulators may be long.
  { files: ['test/**', 'bench/**', 'src/sim/**'], rules: { 'max-lines-per-function': 'off' } },
  prettier,
);
