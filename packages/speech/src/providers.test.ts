import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveModelFile } from '@arc/models';
import { createSession, sessionConfigFromEnv, setProviderWarning } from './providers.js';

test('ORT_PROVIDERS and thread counts are read from the environment', () => {
  assert.deepEqual(sessionConfigFromEnv({}), { providers: ['cpu'], intraOpThreads: 0, interOpThreads: 0 });
  assert.deepEqual(sessionConfigFromEnv({ ORT_PROVIDERS: 'CUDA, cpu', ORT_INTRA_OP_THREADS: '2', ORT_INTER_OP_THREADS: '1' }), {
    providers: ['cuda', 'cpu'],
    intraOpThreads: 2,
    interOpThreads: 1,
  });
  assert.throws(() => sessionConfigFromEnv({ ORT_PROVIDERS: 'tpu' }), /unknown execution provider "tpu"/);
  assert.throws(() => sessionConfigFromEnv({ ORT_INTRA_OP_THREADS: 'many' }), /ORT_INTRA_OP_THREADS/);
});

test('cuda without a GPU falls back to CPU with exactly one warning', async () => {
  const warnings: string[] = [];
  setProviderWarning((m) => warnings.push(m));
  const path = resolveModelFile('silero-vad-v5', 'silero_vad.onnx');
  const sessions = [await createSession(path, { providers: ['cuda'] }), await createSession(path, { providers: ['cuda'] })];
  for (const s of sessions) {
    assert.ok(s.inputNames.includes('input'));
    await s.release();
  }
  // On a machine with a working CUDA provider there is nothing to warn about.
  assert.ok(warnings.length <= 1, warnings.join('\n'));
  if (warnings.length === 1) assert.match(warnings[0] as string, /falling back to CPU/);
});
