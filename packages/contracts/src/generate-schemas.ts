/** Writes packages/contracts/schemas/*.schema.json (run: npm run schemas). A test checks they are current. */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { jsonSchemaFiles } from './json-schema.js';

export const SCHEMA_DIR = fileURLToPath(new URL('../schemas/', import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(SCHEMA_DIR, { recursive: true });
  for (const old of readdirSync(SCHEMA_DIR)) rmSync(`${SCHEMA_DIR}${old}`);
  for (const [name, text] of jsonSchemaFiles()) writeFileSync(`${SCHEMA_DIR}${name}`, text);
  console.log(`wrote ${jsonSchemaFiles().size} schema files to ${SCHEMA_DIR}`);
}
