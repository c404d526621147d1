/**
 * The playground page in headless Chromium (Debian's chromium, driven by playwright-core) with
 * a fake microphone fed from a WAV file: it joins a real LiveKit room, publishes the mic, shows
 * worker heartbeats, and shows the conversation of its room as it crosses the bus (here a brain
 * worker answering from the scripted OpenAI-compatible test server).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { RoomServiceClient } from 'livekit-server-sdk';
import { connectBus } from '@arc/bus';
import { startScriptedOpenAIServer } from '@arc/brain/testing';
import { REPO_ROOT, findBinary, startLiveKitServer, startNatsServer, waitFor } from '@arc/testkit';
import { startPlayground } from '@arc/cli';
import { startNode } from './helpers.js';

test('playground page: joins with the browser microphone, shows services and the conversation', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arc-playground-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const micWav = join(dir, 'mic.wav');
  execFileSync('espeak-ng', ['-w', micWav, 'Hello agent, what time is it?']);

  const nats = await startNatsServer();
  t.after(() => nats.stop());
  const livekit = await startLiveKitServer();
  t.after(() => livekit.stop());
  const model = await startScriptedOpenAIServer();
  t.after(() => model.close());
  const brain = startNode(join(REPO_ROOT, 'services', 'brain', 'dist', 'main.js'), [], {
    NATS_URL: nats.url,
    OPENAI_BASE_URL: model.url,
    HEARTBEAT_INTERVAL_MS: '300',
  });
  t.after(() => brain.stop());
  const playground = await startPlayground({ port: 0, natsUrl: nats.url, livekitUrl: livekit.url, apiKey: livekit.apiKey, apiSecret: livekit.apiSecret });
  t.after(() => playground.close());

  const browser = await chromium.launch({
    executablePath: findBinary('chromium'),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${micWav}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.goto(playground.url);
  await page.fill('#room', 'web-room');
  await page.click('#join');
  await page.waitForFunction(() => (globalThis as unknown as { arc: { connected: boolean } }).arc.connected, undefined, { timeout: 20_000 });

  // The browser's microphone is published into the real room.
  const rooms = new RoomServiceClient(livekit.httpUrl, livekit.apiKey, livekit.apiSecret);
  const participants = await waitFor(async () => {
    const list = await rooms.listParticipants('web-room');
    return list.find((p) => p.tracks.some((track) => track.source === 2 /* MICROPHONE */)) ? list : undefined;
  }, 15_000, 'browser microphone track');
  assert.match(participants[0]!.identity, /^web-/);

  // Heartbeats reach the page.
  await page.waitForSelector('#services td:text("arc-sherlock-brain")', { timeout: 15_000 });

  // A turn of this room crosses the bus: the page shows what the user said and the answer.
  const bus = await connectBus({ servers: nats.url, service: 'arc-playground-test' });
  t.after(() => bus.close(1000));
  bus.publish('agent.brain.request', { request_id: 'req-web-1', session_id: 'web-room', user_input: 'what time is it' });
  await page.waitForSelector('.user:text("you: what time is it")', { timeout: 15_000 });
  await page.waitForSelector('.agent:text("agent: You said: what time is it.")', { timeout: 15_000 });
  const state = await page.evaluate(() => (globalThis as unknown as { arc: { agentText: string[] } }).arc);
  assert.deepEqual(state.agentText, ['You said: what time is it.']);
});
