/**
 * Writes packages/contracts/schemas/*.schema.json and packages/contracts/vectors/test-vectors.json
 * (run: npm run schemas). A test checks they are current.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { jsonSchemaFiles } from './json-schema.js';
import { testVectors } from './test-vectors.js';

export const SCHEMA_DIR = fileURLToPath(new URL('../schemas/', import.meta.url));
export const VECTORS_FILE = fileURLToPath(new URL('../vectors/test-vectors.json', import.meta.url));

export function testVectorsText(): string {
  return `${JSON.stringify(testVectors(), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(SCHEMA_DIR, { recursive: true });
  for (const old of readdirSync(SCHEMA_DIR)) rmSync(`${SCHEMA_DIR}${old}`);
  for (const [name, text] of jsonSchemaFiles()) writeFileSync(`${SCHEMA_DIR}${name}`, text);
  console.log(`wrote ${jsonSchemaFiles().size} schema files to ${SCHEMA_DIR}`);
  mkdirSync(new URL('../vectors/', import.meta.url), { recursive: true });
  writeFileSync(VECTORS_FILE, testVectorsText());
  console.log(`wrote ${testVectors().payloads.length} payload vectors to ${VECTORS_FILE}`);
}
