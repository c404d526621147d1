export * from './subjects.js';
export * from './schemas.js';
export * from './validate.js';
export * from './ids.js';
export { ExamplePayloads } from './examples.js';
export { jsonSchemaFiles } from './json-schema.js';
export { BusRules, testVectors, type PayloadVector, type TestVectors } from './test-vectors.js';
export * from './tenants.js';
