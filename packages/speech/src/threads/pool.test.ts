/** Inference threads with the real models: same results as in-process, earliest deadline first, aborts, a free event loop. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { espeakSpeech } from '../tts/espeak.js';
import { DEFAULT_SPEECH_SETTINGS } from '../settings.js';
import { SttEngines } from '../stt/factory.js';
import { VadEngines } from '../vad/factory.js';
import { InferencePool, TaskAbortedError } from './pool.js';
import { PooledTts, startSttPool, startTtsPool, startVadThread, type PooledStt, type PooledVad } from './pooled-engines.js';

const settings = DEFAULT_SPEECH_SETTINGS;
let voice: PooledTts;
let stt: PooledStt;
let vad: PooledVad;
const question = espeakSpeech('What time is it in Paris?');

before(async () => {
  let voices: PooledTts[];
  [voices, stt, vad] = await Promise.all([startTtsPool([{ engine: 'piper' }], settings, 1), startSttPool({ engine: 'moonshine' }, settings, 1), startVadThread({ engine: 'silero' }, settings)]);
  voice = voices[0]!;
});
after(async () => {
  await Promise.all([voice?.close(), stt?.close(), vad?.close()]);
});

test('pooled STT and VAD give what the in-process engines give', async () => {
  const [local, localVad] = await Promise.all([SttEngines.create({ engine: 'moonshine' }, settings), VadEngines.create({ engine: 'silero' }, settings)]);
  try {
    assert.equal((await stt.transcribe(question.slice())).text, (await local.transcribe(question.slice())).text);
    const frames = (engine: typeof vad | typeof localVad) => {
      const stream = engine.stream({ minSilenceMs: 300 });
      return (async () => {
        const events = [];
        const pcm = Int16Array.from(question, (v) => Math.round(v * 32767));
        for (let i = 0; i < pcm.length + 16_000; i += 320) {
          const frame = new Int16Array(320);
          frame.set(pcm.subarray(i, i + 320));
          events.push(...(await stream.push(frame)));
        }
        stream.close();
        return events;
      })();
    };
    assert.deepEqual(await frames(vad), await frames(localVad));
  } finally {
    await Promise.all([local.close(), localVad.close()]);
  }
});

test('earliest deadline first: a unit due now overtakes units due later; an aborted one leaves the queue', async () => {
  const pool = voice.pool;
  const order: string[] = [];
  const unit = (text: string, deadline: number, signal?: AbortSignal) =>
    pool.run({ op: 'tts.unit', voice: voice.id, unit: { text, silenceAfterMs: 0 }, options: {} }, { deadline, ...(signal ? { signal } : {}) }).then(() => order.push(text));
  const now = performance.now();
  const busy = unit('A long sentence that keeps the only thread busy for a moment.', now); // runs first: the thread is idle
  const later = unit('Later.', now + 5_000);
  const abort = new AbortController();
  const dropped = unit('Dropped.', now + 1_000, abort.signal);
  const urgent = unit('Urgent.', now);
  abort.abort();
  await assert.rejects(dropped, TaskAbortedError);
  await Promise.all([busy, later, urgent]);
  assert.deepEqual(order, ['A long sentence that keeps the only thread busy for a moment.', 'Urgent.', 'Later.']);
});

test('synthesis in the thread leaves the event loop free; a cancel ends the stream without waiting for the unit in progress', async () => {
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const started = performance.now();
  let chunks = 0;
  for await (const chunk of voice.stream('This is a longer answer, with a second clause. And a second sentence follows it. And a third one after that.', { sampleRate: 48_000 })) {
    assert.equal(chunk.sampleRate, 48_000, 'resampled in the thread');
    chunks++;
  }
  const synthesisMs = performance.now() - started;
  lag.disable();
  assert.equal(chunks, 3);
  assert.ok(lag.max / 1e6 < synthesisMs / 3, `event loop blocked ${(lag.max / 1e6).toFixed(0)} ms during ${synthesisMs.toFixed(0)} ms of synthesis`);

  const abort = new AbortController();
  const long = `The first words, ${'and then a great many more words that take the thread a good while to speak '.repeat(4)}.`;
  const stream = voice.stream(long, { signal: abort.signal, shortFirstChunk: true });
  const first = await stream.next();
  assert.equal(first.done, false, 'the first part arrives');
  const next = stream.next(); // the long rest is being synthesized now
  const cancelledAt = performance.now();
  abort.abort();
  assert.equal((await next).done, true, 'the stream ends at the cancel');
  assert.ok(performance.now() - cancelledAt < 100, 'without waiting for the unit in progress');
});

test('a pool that cannot load its engines fails to start, naming why', async () => {
  await assert.rejects(
    InferencePool.start({ name: 'broken', threads: 1, engines: { stt: { engine: 'whisper', model: '/nonexistent' } }, settings }),
    /nonexistent/,
  );
});
