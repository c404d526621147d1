/**
 * scripts/messaging/test-nats.sh (seed 002 T019) against a real stack: a nats-server and a brain
 * worker process answering from the scripted OpenAI-compatible server. The script drives the bus
 * with the NATS CLI only; this test checks its verdict and its PASS lines.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { KNOWN_SUBJECTS } from '@arc/contracts';
import {
  REPO_ROOT,
  TOOLS_BIN,
  startNatsServer,
  startScriptedOpenAIServer,
  startWorkerProcess,
  type ManagedProcess,
  type NatsServerHandle,
  type ScriptedOpenAIServer,
} from '@arc/testkit';

const NATS_CLI = join(TOOLS_BIN, 'nats');
// the first build of the NATS CLI downloads and compiles its modules: minutes
const INSTALL_TIMEOUT_MS = 20 * 60_000;

interface Run {
  code: number | null;
  output: string;
}

/** Runs `bash <script>` from the repo root; output is stdout and stderr interleaved. */
function runBash(script: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`bash ${script} did not finish within ${timeoutMs} ms; output:\n${output.slice(-4000)}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

let nats: NatsServerHandle;
let model: ScriptedOpenAIServer;
let brain: ManagedProcess;

before(async () => {
  if (!executable(NATS_CLI)) {
    const install = await runBash('scripts/install-natscli.sh', process.env, INSTALL_TIMEOUT_MS);
    assert.equal(install.code, 0, `scripts/install-natscli.sh failed:\n${install.output.slice(-4000)}`);
  }
  nats = await startNatsServer();
  model = await startScriptedOpenAIServer({ fallback: { type: 'text', text: 'Hello from the scripted model.' } });
  brain = startWorkerProcess('brain', { nats }, { OPENAI_BASE_URL: model.url });
  await brain.waitForOutput(/brain ready/, 60_000);
}, { timeout: INSTALL_TIMEOUT_MS + 120_000 });

after(async () => {
  await brain?.stop(5_000);
  await model?.close();
  await nats?.stop();
});

test('scripts/messaging/test-nats.sh passes against nats-server and a brain worker', { timeout: 180_000 }, async () => {
  const run = await runBash('scripts/messaging/test-nats.sh', { ...process.env, NATS_URL: nats.url, NATS_CLI }, 170_000);
  assert.equal(run.code, 0, `test-nats.sh exited ${run.code}:\n${run.output}`);
  const lines = run.output.split('\n');
  const passed = (pattern: RegExp) => assert.ok(lines.some((line) => line.startsWith('PASS ') && pattern.test(line)), `no PASS line matching ${pattern}:\n${run.output}`);

  passed(/^PASS connect to nats:\/\/127\.0\.0\.1:\d+/);
  passed(/^PASS agent\.brain\.request → agent\.brain\.response: request_id test-nats-\w+ answered in \d+ ms: "Hello from the scripted model\."/);
  passed(/^PASS stale agent\.brain\.request → dlq\.agent\.brain\.request\.stale: request_id test-nats-stale-\w+ dead-lettered from arc-sherlock-brain\/\S+: timestamp: \S+ is \d+ ms old, over the 60000 ms TTL/);
  for (const subject of KNOWN_SUBJECTS) {
    passed(new RegExp(`^PASS ${subject.replaceAll('.', '\\.')} example arrived unchanged \\(\\d+ bytes\\)$`));
  }
  assert.ok(!lines.some((line) => line.startsWith('FAIL ')), run.output);
  assert.match(run.output, new RegExp(`^summary: ${KNOWN_SUBJECTS.length + 3} passed, 0 failed$`, 'm'));
  // the brain answered the round trip (and the example request) from the scripted model
  assert.ok(model.requests.length >= 1);
});

test('scripts/messaging/test-nats.sh fails, naming the checks, when no worker answers', { timeout: 120_000 }, async () => {
  // A bus without workers: examples still arrive, the brain checks fail.
  const empty = await startNatsServer();
  try {
    const run = await runBash(
      'scripts/messaging/test-nats.sh',
      { ...process.env, NATS_URL: empty.url, NATS_CLI, TEST_NATS_TIMEOUT_S: '2', TEST_NATS_BRAIN_TIMEOUT_S: '2' },
      110_000,
    );
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /^FAIL agent\.brain\.request → agent\.brain\.response: no answer to request_id test-nats-\w+ within 2 s/m);
    assert.match(run.output, /^FAIL stale agent\.brain\.request → dlq\.agent\.brain\.request\.stale: no dead letter/m);
    assert.match(run.output, /^PASS agent\.voice\.track\.published example arrived unchanged/m);
    assert.match(run.output, new RegExp(`^summary: ${KNOWN_SUBJECTS.length + 1} passed, 2 failed$`, 'm'));
  } finally {
    await empty.stop();
  }
});
