/** @type {import('jest').Config} */
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }],
  // @platformatic/kafka and its helpers are ES modules only, which jest cannot require on
  // Node 20: compiled to CommonJS (swc turns import.meta.url into the file's URL).
  '^.+/node_modules/@platformatic/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'ecmascript' } }, module: { type: 'commonjs' } }],
};
const transformIgnorePatterns = ['/node_modules/(?!@platformatic/)'];

module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      roots: ['<rootDir>/test'],
      testMatch: ['<rootDir>/test/{unit,conformance,contract}/**/*.test.ts'],
    },
    {
      // Against local AWS: DynamoDB Local + moto, started once per run (docs/local-aws.md).
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      roots: ['<rootDir>/test'],
      testMatch: ['<rootDir>/test/{integration,e2e}/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/globalSetup.ts',
      globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
    },
    {
      // CDK templates (synth with local esbuild bundling, no AWS account, no Docker).
      displayName: 'infra',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      roots: ['<rootDir>/test'],
      testMatch: ['<rootDir>/test/infra/**/*.test.ts'],
    },
  ],
  testTimeout: 60000,
};
