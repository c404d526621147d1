/**
 * Smart Turn v3.2 against its reference implementation (pipecat-ai 1.14.0 on Python
 * onnxruntime 1.32): the same features and the same probabilities for the same 16 kHz audio.
 * The fixtures are espeak-ng speech: "I would like to book a table for four people." with 200 ms
 * of silence after it, and a 9.4 s ramble that stops mid-clause ("… and I wanted to").
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadAudio } from '../audio/wav.js';
import { SmartTurnDetector, smartTurnFeatures } from './smart-turn.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
let detector: SmartTurnDetector;

before(async () => {
  detector = await SmartTurnDetector.load();
});
after(async () => {
  await detector?.close();
});

test('features: Whisper log-mel over the last 8 s, normalised as the reference does', () => {
  const silence = smartTurnFeatures(new Float32Array(32_000));
  assert.equal(silence.length, 80 * 800);
  assert.ok(silence.every((v) => v === -1.5), 'silence is the floor everywhere');
  const features = smartTurnFeatures(loadAudio(fixture('book-a-table-complete.wav')));
  const at = (mel: number, frame: number) => features[mel * 800 + frame]!;
  // reference values of the same file
  assert.ok(Math.abs(at(0, 0) - 0.5314383) < 1e-4, `[0][0] ${at(0, 0)}`);
  assert.ok(Math.abs(at(40, 700) - 0.0304928) < 1e-4, `[40][700] ${at(40, 700)}`);
  assert.ok(Math.abs(Math.max(...features) - 1.8899808) < 1e-4, `max ${Math.max(...features)}`);
});

test('probabilities match the reference implementation', async () => {
  const cases: [string, Float32Array, number][] = [
    ['2 s of silence', new Float32Array(32_000), 0.9870367],
    ['"… for four people." + 200 ms', loadAudio(fixture('book-a-table-complete.wav')), 0.3839901],
    ['9.4 s ending "… and I wanted to"', loadAudio(fixture('market-unfinished.wav')), 0.0800251],
  ];
  for (const [name, audio, expected] of cases) {
    const p = await detector.completeProbability(audio);
    assert.ok(Math.abs(p - expected) < 2e-3, `${name}: ${p.toFixed(7)}, reference ${expected}`);
  }
});
