/** Tests run against the TypeScript sources, never against dist/. */
module.exports = {
  // jest's node environment, and a file fails if it leaves a socket, server, child, worker or timer open
  // (spec/leak-environment.js).
  testEnvironment: '<rootDir>/spec/leak-environment.js',
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
