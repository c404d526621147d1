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
if (files.length === 0 && !filter.some((f) => f.startsWith('sdk-'))) {
  console.error('no test files found: run `npm run build` first');
  process.exit(1);
}
let status = 0;
if (files.length > 0) {
  console.log(`running ${files.length} test files`);
  // No test may hang the run: one without its own timeout fails after 5 minutes.
  const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-force-exit', '--test-timeout=300000', '--test-reporter=spec', ...files], { stdio: 'inherit' });
  status = result.status ?? 1;
}

// The Go and Python SDKs' own suites (the same contract vectors, against a real nats-server):
// with every test, or when a filter names them ("sdk-go", "sdk-python").
const sdkSuites = [
  { name: 'sdk-go', command: 'go', args: ['test', './...'], cwd: join(root, 'packages', 'sdk-go') },
  { name: 'sdk-python', command: join(root, '.tools', 'python', 'bin', 'pytest'), args: ['-q', join(root, 'packages', 'sdk-python')], cwd: root },
];
for (const suite of sdkSuites) {
  if (filter.length > 0 && !filter.some((f) => suite.name.includes(f) || f.includes(suite.name))) continue;
  console.log(`\n== ${suite.name}: ${[suite.command, ...suite.args].join(' ')}`);
  const run = spawnSync(suite.command, suite.args, { cwd: suite.cwd, stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(`${suite.name} failed (${run.error?.message ?? `exit ${run.status}`})`);
    status = status || 1;
  }
}
process.exit(status);
