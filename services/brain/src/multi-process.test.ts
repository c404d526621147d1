/**
 * Three brain worker processes (`node dist/main.js`, as deployed) in one queue group share 300
 * requests: every request answered exactly once, none lost, and every process did part of it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { collect, startNatsServer, startProcess, type ManagedProcess, type NatsServerHandle } from '@arc/testkit';
import { startScriptedOpenAIServer, type ScriptedOpenAIServer } from '@arc/testkit';
import { BrainClient, brainRequest } from './test-support.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const WORKERS = 3;
const REQUESTS = 300;

let nats: NatsServerHandle;
let llm: ScriptedOpenAIServer;
let client: BrainClient;
const workers: ManagedProcess[] = [];

before(async () => {
  nats = await startNatsServer();
  // each answer takes a little while, so the requests overlap and the group must spread them
  llm = await startScriptedOpenAIServer({
    fallback: (request) => ({ type: 'text', text: `Answer to ${request.lastUserMessage}. Done.`, firstTokenDelayMs: 20, chunkDelayMs: 2 }),
  });
  for (let i = 0; i < WORKERS; i++) {
    workers.push(
      startProcess(process.execPath, [MAIN], {
        env: {
          PATH: process.env['PATH'],
          NATS_URL: nats.url,
          OPENAI_BASE_URL: llm.url,
          BRAIN_MODEL: 'scripted-gpt',
          INSTANCE_ID: `brain-test-${i}`,
          LOG_LEVEL: 'info',
          HEARTBEAT_INTERVAL_MS: '60000',
        },
      }),
    );
  }
  await Promise.all(workers.map((w) => w.waitForOutput(/brain ready/, 20_000)));
  client = await BrainClient.connect(nats.url);
});

after(async () => {
  await client?.close();
  await Promise.all(workers.map((w) => w.stop(5_000)));
  await llm?.close();
  await nats?.stop();
});

test(`${WORKERS} worker processes share ${REQUESTS} requests: none lost, none answered twice`, async () => {
  const heartbeats = await collect(nats.url, 'system.health.heartbeat');
  const requests = Array.from({ length: REQUESTS }, (_, i) => brainRequest(`question ${i}`, { constraints: { timeout_ms: 30_000 } }));
  const outcomes = await Promise.all(requests.map((request) => client.ask(request, 60_000)));

  // let any duplicate arrive before counting
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const [i, request] of requests.entries()) {
    const outcome = outcomes[i]!;
    assert.equal(outcome.error, undefined, `request ${i} failed: ${JSON.stringify(outcome.error)}`);
    assert.equal(outcome.response.agent_response, `Answer to question ${i}. Done.`);
    const finals = client.forRequest(request.request_id).filter((m) => m.subject === 'agent.brain.response' || m.subject === 'agent.brain.error');
    assert.equal(finals.length, 1, `request ${i} answered ${finals.length} times`);
    const partials = client.forRequest(request.request_id).filter((m) => m.subject === 'agent.brain.partial');
    assert.deepEqual(partials.map((p) => p.payload.sequence), [0, 1], `request ${i} partials`);
  }
  assert.equal(llm.requests.length, REQUESTS, 'one model call per request');

  // the last heartbeat of each process ("stopping") tells how many requests it handled
  // SIGTERM ourselves: testkit's stop(grace) keeps its grace timer alive after the exit
  for (const worker of workers) worker.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
  await heartbeats.waitForCount(WORKERS, 5_000); // the collector started after the "healthy" beats
  const handled = new Map<string, number>();
  for (const { payload } of heartbeats.messages) {
    if (payload.status === 'stopping') handled.set(payload.instance_id, payload.metrics.bus.handled);
  }
  await heartbeats.close();
  assert.equal(handled.size, WORKERS, `stopping heartbeats from ${[...handled.keys()].join(', ')}`);
  const counts = [...handled.values()];
  assert.equal(counts.reduce((a, b) => a + b, 0), REQUESTS, `handled per process: ${counts.join(', ')}`);
  for (const count of counts) assert.ok(count > 0, `every process took a share: ${counts.join(', ')}`);
  for (const worker of workers) assert.equal(await worker.exited, 0, 'clean exit on SIGTERM');
});
