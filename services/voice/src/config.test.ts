/** Speech and model settings are checked before the worker connects or loads anything. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, startWorker } from '@arc/runtime';
import { silentLogger } from '@arc/testkit';
import { voiceWorker } from './worker.js';

// Nothing listens on this port: a worker that tried to connect would hang, not fail.
const env = { NATS_URL: 'nats://127.0.0.1:9', LIVEKIT_URL: 'ws://127.0.0.1:9', LIVEKIT_API_KEY: 'k', LIVEKIT_API_SECRET: 's', LOG_LEVEL: 'silent' };

test('a model the manifest does not list, an unknown engine or a bad ORT setting: ConfigError naming the variable, at once', async () => {
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ VOICE_STT_MODEL: 'nope' }, 'VOICE_STT_MODEL', /not a moonshine model of models\/manifest\.json \(moonshine-base-en\) or a directory/],
    [{ VOICE_STT_ENGINE: 'whisper' }, 'VOICE_STT_MODEL', /is required for the whisper engine/],
    [{ VOICE_VAD_MODEL: 'piper-en_US-joe-medium' }, 'VOICE_VAD_MODEL', /not a silero model/],
    [{ VOICE_STT_ENGINE: 'vosk' }, 'VOICE_STT_ENGINE', /not an allowed value/],
    [{ ORT_PROVIDERS: 'tpu' }, 'ORT_PROVIDERS', /wrong format/],
    [{ SPEECH_THREADS: 'many' }, 'SPEECH_THREADS', /integer/],
  ];
  for (const [extra, variable, message] of cases) {
    await assert.rejects(startWorker(voiceWorker, { env: { ...env, ...extra }, logger: silentLogger }), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.variable, variable);
      assert.match(error.message, message);
      return true;
    });
  }
});
