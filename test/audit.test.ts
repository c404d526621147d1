import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectBus, type Bus } from '@arc/bus';
import {
  collect,
  startNatsServer,
  waitFor,
  type Collector,
  type ManagedProcess,
  type NatsServerHandle,
  type ScriptedOpenAIServer,
} from '@arc/testkit';
import { CLI, jsonLines, startNode, startScriptedBrain } from './helpers.js';

let nats: NatsServerHandle;
let model: ScriptedOpenAIServer;
let brain: ManagedProcess;
let user: Bus;
let live: Collector;
before(async () => {
  nats = await startNatsServer({ jetstream: true });
  ({ brain, model } = await startScriptedBrain(nats));
  user = await connectBus({ servers: nats.url, service: 'arc-audit-test' });
  live = await collect(nats.url, 'agent.brain.>');
});
after(async () => {
  await user?.close(1000);
  await live?.close();
  await brain?.stop(5000);
  await model?.close();
  await nats?.stop();
});

test('after a conversation, with its worker stopped, arc audit prints every event of it in order', async () => {
  const session = 's-audit-replay';
  for (const [i, question] of ['What is the capital of France?', 'And of Italy?'].entries()) {
    user.publish('agent.brain.request', { request_id: `${session}-${i}`, session_id: session, user_input: question });
    await waitFor(() => live.messages.some((m) => m.subject === 'agent.brain.response' && m.payload.request_id === `${session}-${i}`), 15_000, `answer ${i}`);
  }
  user.publish('agent.brain.request', { request_id: 'someone-else', session_id: 's-other', user_input: 'Hello?' });
  await waitFor(() => live.messages.some((m) => m.payload.request_id === 'someone-else' && m.subject === 'agent.brain.response'), 15_000, 'other answer');
  const seenLive = live.messages.filter((m) => String(m.payload.request_id ?? '').startsWith(session)).map((m) => `${m.subject} ${m.payload.request_id}`);
  assert.ok(seenLive.length >= 4, `requests and answers seen live: ${seenLive.join(', ')}`);

  assert.equal(await brain.stop(5000), 0, 'the brain stopped cleanly');
  const audit = startNode(CLI, ['audit', '--session', session, '--json'], { NATS_URL: nats.url });
  assert.equal(await audit.exited, 0, audit.output());
  const events = jsonLines(audit.output()) as { seq: number; subject: string; payload: Record<string, unknown> }[];
  const replayed = events.filter((e) => e.subject.startsWith('agent.brain.')).map((e) => `${e.subject} ${e.payload.request_id}`);
  assert.deepEqual(replayed, seenLive, 'the same events, in the order they happened');
  assert.ok(!events.some((e) => e.payload.session_id === 's-other' || e.payload.request_id === 'someone-else'), 'only this conversation');

  const recent = startNode(CLI, ['audit', '--since', '5m', '--json'], { NATS_URL: nats.url });
  assert.equal(await recent.exited, 0, recent.output());
  const beats = jsonLines(recent.output()).filter((e) => e.subject === 'system.health.heartbeat');
  assert.ok(beats.some((e) => (e.payload as { status?: string }).status === 'stopping'), 'the brain’s last heartbeat is kept too');
});
