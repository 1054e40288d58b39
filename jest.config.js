/** Five projects: pure unit tests (fast, no services), replay of recorded histories (no server), the workflow's branches on the
 * time-skipping test server with stub activities, integration tests against the real
 * Temporal dev server, FerretDB and the Partner Center simulator started by globalSetup, and the fault suite (chaos). */
// Transpile only (isolatedModules is set in tsconfig.json): `npm test` type-checks the whole tree once with tsc first.
const tsJest = ['ts-jest', { diagnostics: false }];

/** @type {import('jest').Config} */
module.exports = {
  // Per-project testTimeout is not honoured by jest 30; integration tests need minutes, unit tests finish early anyway.
  testTimeout: 120_000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      // Replays the recorded histories (test/replay/histories) against the current workflow code: no server needed.
      displayName: 'replay',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/replay/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      // Every branch of UpgradeWorkflow against stub activities on the time-skipping test server (no database, no
      // vendor): reminders days apart take milliseconds.
      displayName: 'workflow',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/workflow/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      testPathIgnorePatterns: ['<rootDir>/test/integration/chaos/'],
      transform: { '^.+\\.ts$': tsJest },
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
    },
    {
      // The fault suite kills worker processes and restarts a database: `npm test` runs it on its own, after the rest,
      // because sharing two cores with other suites made it three times slower.
      displayName: 'chaos',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/integration/chaos/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
    },
  ],
};
