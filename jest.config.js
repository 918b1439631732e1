/** Tests run against the TypeScript sources, never against dist/. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  transform: {
    // Type errors are caught once, by spec/typecheck.spec.ts running tsc over
    // the whole project; here we only transpile, which keeps jest fast.
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  testTimeout: 60000,
  maxWorkers: 2,
};
