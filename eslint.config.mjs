// Flat config: typescript-eslint's recommended rules, plus the workflow sandbox rule that matters most to us —
// workflow code must not import Node, the database, HTTP or configuration (STYLE.md §1).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.data/', 'coverage/', 'test-artifacts/', 'bench-results/', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'crypto', 'http', 'https', 'net', 'child_process'], message: 'workflow code is sandboxed: no Node APIs' },
            { group: ['mongoose', 'express', 'pino', '**/src/db/**', '**/src/api/**', '**/src/config', '**/src/partner-center/partner-center-client'], message: 'workflow code must not do I/O; call an activity' },
          ],
        },
      ],
    },
  },
);
