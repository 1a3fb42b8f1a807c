/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
    // PGlite's CJS build uses import() for Node built-ins; see the transform for why.
    '/node_modules/@electric-sql/pglite/dist/.+\\.cjs$': '<rootDir>/test/support/pglite-cjs-transform.js',
    '/node_modules/fhir-kit-client/dist/.+\\.js$': '<rootDir>/test/support/esm-transform.js',
  },
  transformIgnorePatterns: ['/node_modules/(?!(@electric-sql/pglite|fhir-kit-client)/)'],
  // fhir-kit-client's package.json exports only an `import` entry.
  moduleNameMapper: { '^fhir-kit-client$': '<rootDir>/node_modules/fhir-kit-client/dist/index.js' },
  testTimeout: 30000,
  // Without PostgreSQL at 127.0.0.1:5432 (and no PEERBRIDGE_TEST_PG), its cases are skipped, saying so.
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
};
