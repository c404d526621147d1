import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhonemizerError } from '../errors.js';
import { EspeakPhonemizer } from './espeak.js';

test('one resident espeak-ng answers many requests in order', async () => {
  const p = new EspeakPhonemizer({ voice: 'en-us' });
  try {
    const [hello, empty, world] = await p.phonemize(['hello', '', 'world']);
    assert.equal(hello, 'həlˈoʊ');
    assert.equal(empty, '');
    assert.equal(world, 'wˈɜːld');
    // Concurrent callers are serialized, each gets its own answer.
    const answers = await Promise.all(['one', 'two', 'three'].map((w) => p.phonemize([w])));
    assert.deepEqual(answers, [['wˈʌn'], ['tˈuː'], ['θɹˈiː']]);
    // Newlines and control characters cannot split a request.
    assert.deepEqual(await p.phonemize(['good\nmorning\u0007']), ['ɡˈʊd mˈɔːɹnɪŋ']);
  } finally {
    await p.close();
  }
});

test('a killed espeak-ng is reported and restarted on the next request', async () => {
  const p = new EspeakPhonemizer({ voice: 'en-us' });
  try {
    await p.phonemize(['warm up']);
    (p as unknown as { child: { kill(sig: string): void } }).child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await p.phonemize(['hello']), ['həlˈoʊ']);
  } finally {
    await p.close();
  }
});

test('a missing binary or unknown espeak voice is a PhonemizerError', async () => {
  const missing = new EspeakPhonemizer({ voice: 'en-us', binary: '/nonexistent/espeak-ng' });
  await assert.rejects(missing.phonemize(['hi']), (e: unknown) => e instanceof PhonemizerError && /cannot run/.test(e.message));
  await missing.close();
  const badVoice = new EspeakPhonemizer({ voice: 'xx-nonexistent', timeoutMs: 2000 });
  await assert.rejects(badVoice.phonemize(['hi']), PhonemizerError);
  await badVoice.close();
});
