import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UtteranceBuffer } from '@arc/speech';
import { UtteranceCutter } from './utterances.js';

test('VAD events become speech start, one utterance and speech end', () => {
  const cutter = new UtteranceCutter(16_000, 20_000);
  assert.deepEqual(cutter.next([{ type: 'speech-start', startMs: 500 }], 16_000), [{ type: 'speech-start' }]);
  assert.equal(cutter.keepFrom(16_000), 8_000 - 16_000, 'one second before the speech is kept');
  assert.deepEqual(cutter.next([{ type: 'speech-end', startMs: 500, endMs: 1_500 }], 40_000), [
    { type: 'utterance', startSample: 8_000, endSample: 24_000, cut: false },
    { type: 'speech-end' },
  ]);
  assert.equal(cutter.keepFrom(40_000), 24_000);
});

test('continuous speech is cut at the maximum turn length, once; its end adds no second utterance', () => {
  const cutter = new UtteranceCutter(16_000, 4_000);
  cutter.next([{ type: 'speech-start', startMs: 0 }], 8_000);
  assert.deepEqual(cutter.next([], 64_000), [], 'exactly the maximum is not over it');
  assert.deepEqual(cutter.next([], 64_512), [{ type: 'utterance', startSample: 0, endSample: 64_512, cut: true }]);
  assert.deepEqual(cutter.next([], 200_000), []);
  assert.deepEqual(cutter.next([{ type: 'speech-end', startMs: 0, endMs: 12_000 }], 200_000), [{ type: 'speech-end' }]);
  cutter.next([{ type: 'speech-start', startMs: 13_000 }], 210_000);
  assert.equal(cutter.next([{ type: 'speech-end', startMs: 13_000, endMs: 14_000 }], 230_000)[0]!.type, 'utterance', 'the next speech is heard again');
});

test('a pause judged the end of the turn ends the utterance there; speech after it is a new utterance, the VAD end adds none', () => {
  const cutter = new UtteranceCutter(16_000, 20_000);
  cutter.next([{ type: 'speech-start', startMs: 1_000 }], 24_000);
  const before = cutter.pauseToken;
  assert.deepEqual(cutter.next([{ type: 'gap', startMs: 1_000, endMs: 2_000 }], 33_600), [{ type: 'gap', startSample: 16_000, endSample: 32_000 }]);
  assert.equal(cutter.pauseToken, before, 'a gap is no pause: a judgment of the pause before it still holds');
  assert.deepEqual(cutter.next([{ type: 'pause', startMs: 1_000, endMs: 2_000 }], 35_200), [{ type: 'pause', startSample: 16_000, endSample: 32_000 }]);
  const token = cutter.pauseToken;
  assert.deepEqual(cutter.endTurn(token, 32_000), [{ type: 'utterance', startSample: 16_000, endSample: 32_000, cut: false }, { type: 'speech-end' }]);
  assert.deepEqual(cutter.endTurn(token, 32_000), [], 'once');
  assert.equal(cutter.keepFrom(40_000), 24_000, 'the handed-out utterance is not kept');
  // The user goes on within the same VAD segment: a new utterance from where they resumed.
  assert.deepEqual(cutter.next([{ type: 'resume', startMs: 3_000 }], 52_000), [{ type: 'speech-start' }]);
  assert.deepEqual(cutter.next([{ type: 'speech-end', startMs: 1_000, endMs: 4_000 }], 90_000), [
    { type: 'utterance', startSample: 48_000, endSample: 64_000, cut: false },
    { type: 'speech-end' },
  ]);
});

test('a judgment that comes back after the user went on is void; a resume with no early end changes nothing', () => {
  const cutter = new UtteranceCutter(16_000, 20_000);
  cutter.next([{ type: 'speech-start', startMs: 0 }], 8_000);
  cutter.next([{ type: 'pause', startMs: 0, endMs: 1_000 }], 20_000);
  const token = cutter.pauseToken;
  assert.deepEqual(cutter.next([{ type: 'resume', startMs: 1_400 }], 28_000), [], 'the utterance simply goes on');
  assert.deepEqual(cutter.endTurn(token, 16_000), [], 'the pause it judged is over');
  assert.deepEqual(cutter.next([{ type: 'speech-end', startMs: 0, endMs: 3_000 }], 60_000), [
    { type: 'utterance', startSample: 0, endSample: 48_000, cut: false },
    { type: 'speech-end' },
  ]);
});

test('utterance buffer: slices by absolute position across chunks, lets go of old audio', () => {
  const buffer = new UtteranceBuffer(16_000);
  for (let i = 0; i < 4; i++) buffer.push(new Int16Array(100).fill(i + 1));
  assert.equal(buffer.end, 400);
  assert.deepEqual([...buffer.slice(95, 105)], [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
  buffer.dropBefore(250);
  assert.deepEqual([...buffer.slice(195, 205)], [0, 0, 0, 0, 0, 3, 3, 3, 3, 3], 'dropped audio reads as silence');
  assert.equal(buffer.toSamples(buffer.toMs(320)), 320);
});

test('an onset (of likely speech, or of sound) says how long its sound had lasted; its fading passes through', () => {
  const cutter = new UtteranceCutter(16_000, 20_000);
  assert.deepEqual(cutter.next([{ type: 'onset', startMs: 1_000 }], 17_536), [{ type: 'onset', soundMs: 96, cue: 'speech' }]);
  assert.deepEqual(cutter.next([{ type: 'sound', startMs: 1_000 }], 17_024), [{ type: 'onset', soundMs: 64, cue: 'sound' }]);
  assert.deepEqual(cutter.next([{ type: 'onset-dropped' }], 24_000), [{ type: 'onset-dropped' }]);
});
