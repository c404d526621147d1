import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveModelFile } from '@arc/models';
import { Value } from '@sinclair/typebox/value';
import { createSession, setProviderWarning } from './providers.js';
import { SpeechConfig, speechSettings } from './settings.js';

test('speech settings: ORT_PROVIDERS, thread counts, models dir and espeak-ng from a validated configuration', () => {
  const config = Value.Default(SpeechConfig, {}) as SpeechConfig;
  assert.deepEqual(speechSettings(config), { session: { providers: ['cpu'], intraOpThreads: 1, interOpThreads: 1 }, espeakBinary: 'espeak-ng' });
  assert.deepEqual(speechSettings({ ...config, ORT_PROVIDERS: 'cuda,cpu', ORT_INTRA_OP_THREADS: 2, ORT_INTER_OP_THREADS: 1, ARC_MODELS_DIR: '/m' }), {
    session: { providers: ['cuda', 'cpu'], intraOpThreads: 2, interOpThreads: 1 },
    modelsDir: '/m',
    espeakBinary: 'espeak-ng',
  });
  assert.equal(Value.Check(SpeechConfig, { ...config, ORT_PROVIDERS: 'tpu' }), false, 'unknown execution provider');
  assert.equal(Value.Check(SpeechConfig, { ...config, ORT_INTRA_OP_THREADS: -1 }), false);
});

test('cuda without a GPU falls back to CPU with exactly one warning', async () => {
  const warnings: string[] = [];
  setProviderWarning((m) => warnings.push(m));
  const path = resolveModelFile('silero-vad-v5', 'silero_vad.onnx');
  const cuda = { providers: ['cuda' as const], intraOpThreads: 0, interOpThreads: 0 };
  const sessions = [await createSession(path, cuda), await createSession(path, cuda)];
  for (const s of sessions) {
    assert.ok(s.inputNames.includes('input'));
    await s.release();
  }
  // On a machine with a working CUDA provider there is nothing to warn about.
  assert.ok(warnings.length <= 1, warnings.join('\n'));
  if (warnings.length === 1) assert.match(warnings[0] as string, /falling back to CPU/);
});
