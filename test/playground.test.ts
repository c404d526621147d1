/**
 * The playground page in headless Chromium (Debian's chromium, driven by playwright-core) with
 * a fake microphone fed from a WAV file, against the whole stack: real nats-server and
 * livekit-server, the voice, brain and TTS workers (the brain's model is the scripted
 * OpenAI-compatible test server). The browser speaks; the page must show the agent's answer
 * text and receive the agent's audio.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { RoomServiceClient } from 'livekit-server-sdk';
import { startScriptedOpenAIServer } from '@arc/testkit';
import { startPlayground } from '@arc/cli';
import { loadAudio, writeWav } from '@arc/speech';
import { REPO_ROOT, findBinary, freePort, startLiveKitServer, startNatsServer, waitFor, type ManagedProcess } from '@arc/testkit';
import { startNode } from './helpers.js';

type PageState = { arc: { connected: boolean; agentText: string[]; userText: string[]; agentAudioFrames: number } };

test('playground page: the browser microphone talks to the agent; the page shows the answer and plays its audio', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arc-playground-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Chromium loops the file: the question, then a long pause for the answer.
  const spoken = join(dir, 'spoken.wav');
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', spoken, 'Hello agent, what time is it?']);
  const question = loadAudio(spoken, 16000);
  const micAudio = new Float32Array(16000 * 1 + question.length + 16000 * 14);
  micAudio.set(question, 16000);
  const micWav = join(dir, 'mic.wav');
  writeWav(micWav, micAudio, 16000);

  const nats = await startNatsServer();
  t.after(() => nats.stop());
  const voicePort = await freePort();
  const livekit = await startLiveKitServer({ webhookUrls: [`http://127.0.0.1:${voicePort}/livekit/webhook`] });
  t.after(() => livekit.stop());
  const model = await startScriptedOpenAIServer();
  t.after(() => model.close());
  const common = { NATS_URL: nats.url, LIVEKIT_URL: livekit.url, LIVEKIT_API_KEY: livekit.apiKey, LIVEKIT_API_SECRET: livekit.apiSecret, HEARTBEAT_INTERVAL_MS: '500' };
  const workers: ManagedProcess[] = [
    startNode(join(REPO_ROOT, 'services', 'brain', 'dist', 'main.js'), [], { ...common, OPENAI_BASE_URL: model.url }),
    startNode(join(REPO_ROOT, 'services', 'tts', 'dist', 'main.js'), [], common),
    startNode(join(REPO_ROOT, 'services', 'voice', 'dist', 'main.js'), [], { ...common, VOICE_HTTP_PORT: String(voicePort) }),
  ];
  t.after(() => Promise.all(workers.map((w) => w.stop(10_000))));
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
  // Heartbeats of all three workers reach the page.
  for (const service of ['arc-sherlock-brain', 'arc-piper-tts', 'arc-scarlett-voice']) {
    await page.waitForSelector(`#services td:text("${service}")`, { timeout: 60_000 });
  }
  await page.fill('#room', 'web-room');
  await page.click('#join');
  await page.waitForFunction(() => (globalThis as unknown as PageState).arc.connected, undefined, { timeout: 20_000 });

  const rooms = new RoomServiceClient(livekit.httpUrl, livekit.apiKey, livekit.apiSecret);
  await waitFor(async () => (await rooms.listParticipants('web-room')).some((p) => p.identity.startsWith('web-') && p.tracks.length > 0), 15_000, 'browser microphone published');

  // The user's words and the agent's answer appear; the agent's audio arrives in the page.
  await page.waitForSelector('.agent:text("agent: You said:")', { timeout: 60_000 });
  await page.waitForFunction(() => (globalThis as unknown as PageState).arc.agentAudioFrames > 5, undefined, { timeout: 30_000 });
  const state = await page.evaluate(() => (globalThis as unknown as PageState).arc);
  // Chromium's fake capture device degrades the audio, so only that a transcript arrived is checked
  // here; transcript accuracy is tested in the voice worker's tests with a real participant.
  assert.ok(state.userText.length > 0 && state.userText[0]!.trim() !== '', `heard the user: ${JSON.stringify(state.userText)}`);
  assert.ok(state.agentText.some((text) => text.startsWith('You said:')), JSON.stringify(state.agentText));
  console.log(`page: user ${JSON.stringify(state.userText[0])}, agent ${JSON.stringify(state.agentText[0])}, agent audio frames ${state.agentAudioFrames}`);
});
