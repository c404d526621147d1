#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js and bench/dist/**/*.test.js of packages and
// services, and test/dist) with
// node's test runner, one file at a time: tests start real servers and real models, and
// parallel files would make their timing assertions depend on the machine's load.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const roots = [];
for (const group of ['packages', 'services']) {
  // bench/ holds the evaluations a test also runs (services/brain/bench/eval.test.ts)
  for (const name of readdirSync(join(root, group))) roots.push(join(root, group, name, 'dist'), join(root, group, name, 'bench', 'dist'));
}
roots.push(join(root, 'test', 'dist'));

function findTests(dir, found = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return found;
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) findTests(path, found);
    else if (entry.endsWith('.test.js')) found.push(path);
  }
  return found;
}

const filter = process.argv.slice(2);
const files = roots.flatMap((dir) => findTests(dir)).filter((file) => filter.length === 0 || filter.some((f) => file.includes(f)));
if (files.length === 0) {
  console.error('no test files found: run `npm run build` first');
  process.exit(1);
}
console.log(`running ${files.length} test files`);
// No test may hang the run: one without its own timeout fails after 5 minutes.
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-force-exit', '--test-timeout=300000', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
