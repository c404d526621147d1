import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateDeadLetter, validatePayload } from '@arc/contracts';
import { connectBus, type Bus } from '@arc/bus';
import { REPO_ROOT, startProcess } from '@arc/devstack';
import {
  collect,
  startNatsServer,
  waitFor,
  type Collector,
  type ManagedProcess,
  type NatsServerHandle,
  type ScriptedOpenAIServer,
} from '@arc/testkit';
import { jsonLines, startScriptedBrain } from './helpers.js';

const PYTHON = join(REPO_ROOT, '.tools', 'python', 'bin', 'python');
const GO_SDK = join(REPO_ROOT, 'packages', 'sdk-go');
let goCli: string;

let nats: NatsServerHandle;
let model: ScriptedOpenAIServer;
let brain: ManagedProcess;
const running: ManagedProcess[] = [];
before(async () => {
  // The Go SDK's CLI, built once; the Python one is in the venv scripts/install-python-sdk.sh made (setup runs it).
  goCli = join(mkdtempSync(join(tmpdir(), 'arc-go-')), 'arc-nats');
  const build = spawnSync('go', ['build', '-o', goCli, './cmd/arc-nats'], { cwd: GO_SDK, encoding: 'utf8' });
  assert.equal(build.status, 0, `go build: ${build.stderr}`);
  nats = await startNatsServer();
  ({ brain, model } = await startScriptedBrain(nats));
});
after(async () => {
  await Promise.all(running.map((p) => p.stop(2000)));
  await brain?.stop(5000);
  await model?.close();
  await nats?.stop();
});

function goSubscriber(subject: string, count: number, service: string): ManagedProcess {
  const sub = startProcess(goCli, ['sub', '--server', nats.url, '--subject', subject, '--count', String(count), '--timeout', '30s', '--service', service]);
  running.push(sub);
  return sub;
}

function pythonSubscriber(subject: string, count: number): ManagedProcess {
  const sub = startProcess(PYTHON, ['-m', 'arc_sdk', 'sub', '--server', nats.url, '--subject', subject, '--count', String(count), '--timeout', '30']);
  running.push(sub);
  return sub;
}

test('a Python client asks, the TypeScript brain answers, a Go subscriber validates the answer', async () => {
  const go = goSubscriber('agent.brain.response', 1, 'arc-go-test');
  await go.waitForOutput(/ready/, 20_000);
  const ask = spawnSync(
    PYTHON,
    ['-m', 'arc_sdk', 'pub', '--server', nats.url, '--subject', 'agent.brain.request', '--json', JSON.stringify({ request_id: 'py-1', session_id: 's-py', user_input: 'Hello from Python' })],
    { encoding: 'utf8' },
  );
  assert.equal(ask.status, 0, ask.stderr);
  const sent = JSON.parse(ask.stdout.trim().split('\n').at(-1)!) as { timestamp: string; trace_id: string };
  assert.match(sent.trace_id, /^[0-9a-f]{32}$/, 'the Python SDK filled the trace id');
  assert.ok(validatePayload('agent.brain.request', sent).ok, 'what Python sent is valid for TypeScript');

  assert.equal(await go.exited, 0, go.output());
  const [received] = jsonLines(go.output()) as { subject: string; payload: { request_id: string; trace_id: string; agent_response: string } }[];
  assert.equal(received?.subject, 'agent.brain.response');
  assert.equal(received.payload.request_id, 'py-1');
  assert.equal(received.payload.trace_id, sent.trace_id, 'one trace from Python through TypeScript to Go');
  assert.match(received.payload.agent_response, /Hello from Python/);
});

test('Go, Python and TypeScript consumers dead-letter the same bad message alike', async () => {
  let letters: Collector | undefined;
  let sender: Bus | undefined;
  try {
    letters = await collect(nats.url, 'dlq.agent.brain.request.>');
    const go = goSubscriber('agent.brain.request', 1, 'arc-go-test');
    const py = pythonSubscriber('agent.brain.request', 1);
    await Promise.all([go.waitForOutput(/ready/, 20_000), py.waitForOutput(/ready/, 20_000)]);
    sender = await connectBus({ servers: nats.url, service: 'arc-cross-language-test' });
    // user_input missing: every consumer of agent.brain.request rejects it (the brain is one).
    sender.publishRaw('agent.brain.request', JSON.stringify({ timestamp: new Date().toISOString(), trace_id: 'ab'.repeat(16), request_id: 'bad-1', session_id: 's-bad' }));
    await waitFor(() => letters!.messages.length >= 3, 15_000, `three dead letters: ${JSON.stringify(letters!.messages.map((m) => m.payload.service))}`);
    const bySource = new Map(letters.messages.map((m) => [m.payload.service as string, m]));
    assert.deepEqual([...bySource.keys()].sort(), ['arc-go-test', 'arc-sdk-python-cli', 'arc-sherlock-brain'], 'one letter from each consumer');
    const reference = bySource.get('arc-sherlock-brain')!;
    for (const [service, letter] of bySource) {
      assert.equal(letter.subject, 'dlq.agent.brain.request.invalid_payload', service);
      const checked = validateDeadLetter(letter.payload);
      assert.ok(checked.ok, `${service}: ${checked.ok ? '' : checked.error}`);
      assert.deepEqual(Object.keys(letter.payload).sort(), Object.keys(reference.payload).sort(), `${service}: the same fields`);
      for (const field of ['original_subject', 'error_type', 'original_size_bytes', 'original_payload_base64', 'truncated', 'trace_id'] as const) {
        assert.deepEqual(letter.payload[field], reference.payload[field], `${service}: ${field}`);
      }
      assert.match(String(letter.payload.reason), /user_input/, `${service}: the reason names the field`);
    }
  } finally {
    await sender?.close(1000);
    await letters?.close();
  }
});
