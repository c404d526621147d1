import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { KNOWN_SUBJECTS } from '@arc/contracts';
import { startNatsServer, waitFor, type ManagedProcess, type NatsServerHandle } from '@arc/testkit';
import { CLI, FIXTURES, jsonLines, startNode } from './helpers.js';

let nats: NatsServerHandle;
const processes: ManagedProcess[] = [];
before(async () => {
  nats = await startNatsServer();
});
after(async () => {
  await Promise.all(processes.map((p) => p.stop(2000)));
  await nats.stop();
});

const HEARTBEAT_MS = 300;

test('two worker processes exchange every subject; the monitor sees both and marks a killed one DOWN', async () => {
  const monitor = startNode(CLI, ['monitor', '--json'], { NATS_URL: nats.url });
  processes.push(monitor);
  await monitor.waitForOutput(/monitoring/);

  const env = { NATS_URL: nats.url, HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS), EXCHANGE_DELAY_MS: '1500' };
  const workerA = startNode(join(FIXTURES, 'exchange-worker.js'), [], { ...env, INSTANCE_ID: 'exchange-a' });
  const workerB = startNode(join(FIXTURES, 'exchange-worker.js'), [], { ...env, INSTANCE_ID: 'exchange-b' });
  processes.push(workerA, workerB);

  const expected = KNOWN_SUBJECTS.filter((s) => s !== 'system.health.heartbeat').filter((s) => s.startsWith('agent.') || s === 'system.service.error');
  const receivedBy = (worker: ManagedProcess, from: string) =>
    new Set(jsonLines(worker.output()).filter((l) => l.from === from).map((l) => l.received as string));
  await waitFor(() => receivedBy(workerA, 'exchange-b').size === expected.length && receivedBy(workerB, 'exchange-a').size === expected.length, 15_000, 'every subject exchanged');
  assert.deepEqual([...receivedBy(workerA, 'exchange-b')].sort(), [...expected].sort());
  assert.deepEqual([...receivedBy(workerB, 'exchange-a')].sort(), [...expected].sort());

  const events = () => jsonLines(monitor.output());
  await waitFor(() => ['exchange-a', 'exchange-b'].every((id) => events().some((e) => e.type === 'up' && e.instance_id === id)), 10_000, 'both UP');

  // SIGKILL: no goodbye heartbeat, so only the missed beats can tell.
  const killedAt = Date.now();
  workerB.child.kill('SIGKILL');
  await waitFor(() => events().some((e) => e.type === 'down' && e.instance_id === 'exchange-b'), 10_000, 'B DOWN');
  const downAfter = Date.now() - killedAt;
  // DOWN comes two intervals after the last beat, and that beat came up to one interval before the kill.
  assert.ok(downAfter >= HEARTBEAT_MS, `DOWN after ${downAfter} ms: too early`);
  assert.ok(!events().some((e) => e.type === 'down' && e.instance_id === 'exchange-a'), 'A is still up');

  // SIGTERM: drains, says "stopping" in a last heartbeat, exits 0.
  workerA.child.kill('SIGTERM');
  assert.equal(await workerA.exited, 0);
  await waitFor(() => events().some((e) => e.type === 'status' && e.instance_id === 'exchange-a' && e.status === 'stopping'), 5_000, 'A stopping');
});

test('bad environment → exit code 2 and a message naming the variable', async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ NATS_URL: 'notaurl' }, /NATS_URL="notaurl" has the wrong format/],
    [{ HEARTBEAT_INTERVAL_MS: '-1' }, /HEARTBEAT_INTERVAL_MS="-1" must be >= 100/],
    [{ HEARTBEAT_INTERVAL_MS: 'soon' }, /HEARTBEAT_INTERVAL_MS="soon" must be integer/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud" is not an allowed value/],
    [{ EXCHANGE_DELAY_MS: '1.5' }, /EXCHANGE_DELAY_MS/],
  ];
  for (const [env, message] of cases) {
    const worker = startNode(join(FIXTURES, 'exchange-worker.js'), [], { NATS_URL: nats.url, ...env });
    assert.equal(await worker.exited, 2, worker.output());
    assert.match(worker.output(), message);
  }
});

test('arc pub validates: unknown subject or invalid payload → clear error, exit 1; valid → delivered to arc sub', async () => {
  const sub = startNode(CLI, ['sub', 'agent.brain.>', '--json', '--count', '1'], { NATS_URL: nats.url });
  processes.push(sub);
  await sub.waitForOutput(/listening on/);

  const unknown = startNode(CLI, ['pub', 'agent.brain.nonsense', '{}'], { NATS_URL: nats.url });
  assert.equal(await unknown.exited, 1);
  assert.match(unknown.output(), /unknown subject "agent.brain.nonsense"/);

  const invalid = startNode(CLI, ['pub', 'agent.brain.request', '{"request_id":"r1","session_id":"s1"}'], { NATS_URL: nats.url });
  assert.equal(await invalid.exited, 1);
  assert.match(invalid.output(), /invalid payload for agent.brain.request: user_input: is required/);

  const valid = startNode(CLI, ['pub', 'agent.brain.request', '{"request_id":"r1","session_id":"s1","user_input":"hello"}'], { NATS_URL: nats.url });
  assert.equal(await valid.exited, 0, valid.output());
  assert.equal(await sub.exited, 0);
  const [line] = jsonLines(sub.output());
  assert.equal(line?.subject, 'agent.brain.request');
  assert.equal((line?.payload as { user_input: string }).user_input, 'hello');
});
