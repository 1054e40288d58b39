// Flat config: typescript-eslint's recommended rules with type information (so promise mistakes are caught), plus the
// workflow sandbox rule — workflow code must not import any Node built-in, the database, HTTP or configuration
// (docs/architecture.md, "Workflow code").
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

export default tseslint.config(
  {
    ignores: ['node_modules/', 'dist/', '.tools/', '.data/', 'coverage/', 'test-artifacts/', 'bench-results/', '**/*.js', '**/*.mjs', '**/*.cjs'],
  },
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      // A promise nobody awaits loses its error and its ordering: await it, return it, or mark it `void` on purpose.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'workflow code is sandboxed: no Node built-ins' })),
          patterns: [
            { group: ['node:*'], message: 'workflow code is sandboxed: no Node built-ins' },
            {
              group: [
                'mongoose',
                'mongodb',
                'express',
                'pino',
                '**/src/db/**',
                '**/src/api/**',
                '**/src/config',
                '**/src/partner-center/**',
                '**/activities',
                '**/activities/**',
              ],
              message: 'workflow code must not do I/O nor import activity code; call an activity through its contract in workflows/',
            },
          ],
        },
      ],
    },
  },
);
