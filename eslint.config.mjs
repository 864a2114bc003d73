// ESLint flat config. Workflow code runs in Temporal's deterministic sandbox, so it may not import
// Node built-ins or anything that does I/O (database, HTTP, metrics, breakers, provider adapters).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.cache/',
      '.data/',
      'coverage/',
      'eslint.config.mjs',
      'jest.config.js',
      '.dependency-cruiser.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'Workflow code cannot use Node built-ins.' })),
            ...['mongoose', 'mongodb', 'express', 'prom-client', 'opossum', 'pino'].map((name) => ({
              name,
              message: 'Workflow code must stay deterministic: do I/O in activities.',
            })),
          ],
          patterns: [
            {
              group: ['**/providers', '**/providers/**', '**/activities/**', '**/api/**'],
              allowTypeImports: true,
              message: 'Workflows import activities and providers as types only.',
            },
          ],
        },
      ],
    },
  },
  {
    // The console's browser modules: TypeScript checks their names against the DOM library
    // (console/tsconfig.json), which ESLint's no-undef does not know.
    files: ['console/**/*.js'],
    rules: { 'no-undef': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      // Tests run an activity by passing the factory's function, as Temporal's own samples do.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
