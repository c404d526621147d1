/**
 * The exact categories of the brain evaluation on the offline default brain: a real
 * nats-server, the brain worker with its default configuration (the local model), and the
 * questions of eval-cases.json sent over the bus. Time, date, weekday, arithmetic, unit
 * conversion and memory have one right answer each; every one must be right, and tools_called
 * must name the tool that answered.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, type RunningWorker } from '@arc/runtime';
import { brainWorker } from '@arc/brain';
import { silentLogger, startNatsServer, type NatsServerHandle } from '@arc/testkit';
import { EXACT_CATEGORIES, loadCases, runEval } from './eval.js';

let nats: NatsServerHandle;
let brain: RunningWorker<unknown>;

before(async () => {
  nats = await startNatsServer();
  brain = (await startWorker(brainWorker, { env: { NATS_URL: nats.url, ...(process.env['ARC_MODELS_DIR'] ? { ARC_MODELS_DIR: process.env['ARC_MODELS_DIR'] } : {}) }, logger: silentLogger })) as RunningWorker<unknown>;
});

after(async () => {
  await brain?.shutdown('test over');
  await nats?.stop();
});

const TOOL_OF: Record<string, string> = { time: 'current_datetime', date: 'current_datetime', weekday: 'current_datetime', arithmetic: 'calculator', units: 'convert_units', memory: 'user_memory' };

test('offline default: every time, date, weekday, arithmetic, unit and memory answer is right, and says which tool gave it', { timeout: 120_000 }, async () => {
  const cases = loadCases().filter((c) => (EXACT_CATEGORIES as readonly string[]).includes(c.category));
  assert.ok(cases.length >= 25, `${cases.length} exact cases`);
  const results = await runEval({ natsUrl: nats.url, cases, timeoutMs: 20_000 });
  const wrong = results.filter((r) => !r.ok).map((r) => `${r.id}: "${r.answer}" (${r.reason})`);
  assert.deepEqual(wrong, []);
  for (const r of results) assert.deepEqual(r.tools, [TOOL_OF[r.category]], `${r.id}: tools_called ${JSON.stringify(r.tools)}`);
  for (const r of results) assert.ok(r.sentences <= 3 && r.words <= 60, `${r.id} is a voice-length answer: "${r.answer}"`);
});
