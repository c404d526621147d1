import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioInputError, WavFormatError } from '../errors.js';
import { encodeWav, loadAudio, parseWav } from './wav.js';
import { resample } from './resample.js';
import { FrameSplitter } from './framing.js';
import { float32ToInt16, int16ToFloat32, rms } from './pcm.js';

function sine(freq: number, rate: number, seconds: number, amp = 0.5): Float32Array {
  const a = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < a.length; i++) a[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  return a;
}

/** A WAV with arbitrary format fields, to build the odd files real users send. */
function rawWav(opts: { format?: number; channels: number; rate: number; bits: number; data: Buffer }): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + opts.data.length, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(opts.format ?? 1, 20);
  h.writeUInt16LE(opts.channels, 22);
  h.writeUInt32LE(opts.rate, 24);
  h.writeUInt32LE((opts.rate * opts.channels * opts.bits) / 8, 28);
  h.writeUInt16LE((opts.channels * opts.bits) / 8, 32);
  h.writeUInt16LE(opts.bits, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(opts.data.length, 40);
  return Buffer.concat([h, opts.data]);
}

/** Count of upward zero crossings per second ≈ frequency of a sine. */
function frequency(a: Float32Array, rate: number): number {
  let n = 0;
  for (let i = 1; i < a.length; i++) if ((a[i - 1] as number) < 0 && (a[i] as number) >= 0) n++;
  return n / (a.length / rate);
}

test('16-bit mono WAV round-trips', () => {
  const pcm = float32ToInt16(sine(440, 16000, 0.5));
  const wav = parseWav(encodeWav(pcm, 16000));
  assert.equal(wav.sampleRate, 16000);
  assert.equal(wav.channels, 1);
  assert.equal(wav.samples.length, pcm.length);
  assert.ok(Math.abs((wav.samples[100] as number) - (pcm[100] as number) / 32768) < 1e-6);
});

test('8-bit unsigned, stereo 44.1 kHz is downmixed and resampled to 16 kHz mono', () => {
  const dir = mkdtempSync(join(tmpdir(), 'arc-wav-'));
  try {
    const left = sine(1000, 44100, 1, 0.5);
    const data = Buffer.alloc(left.length * 2);
    for (let i = 0; i < left.length; i++) {
      const v = Math.round((left[i] as number) * 127 + 128);
      data[2 * i] = v;
      data[2 * i + 1] = v;
    }
    const path = join(dir, 'u8-stereo-44k.wav');
    writeFileSync(path, rawWav({ channels: 2, rate: 44100, bits: 8, data }));
    const audio = loadAudio(path);
    assert.equal(audio.length, 16000);
    assert.ok(Math.abs(frequency(audio, 16000) - 1000) < 5, `frequency ${frequency(audio, 16000)}`);
    assert.ok(Math.abs(rms(audio) - 0.5 / Math.SQRT2) < 0.02, `rms ${rms(audio)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('32-bit float and 24-bit PCM are read', () => {
  const f = Buffer.alloc(8);
  f.writeFloatLE(0.25, 0);
  f.writeFloatLE(-0.5, 4);
  assert.deepEqual([...parseWav(rawWav({ format: 3, channels: 1, rate: 16000, bits: 32, data: f })).samples], [0.25, -0.5]);
  const p = Buffer.alloc(3);
  p.writeIntLE(-4194304, 0, 3);
  assert.deepEqual([...parseWav(rawWav({ channels: 1, rate: 16000, bits: 24, data: p })).samples], [-0.5]);
});

test('broken headers give a WavFormatError naming the field', () => {
  assert.throws(() => parseWav(Buffer.from('not a wav file at all')), (e: unknown) => e instanceof WavFormatError && e.field === 'chunk id');
  assert.throws(() => parseWav(Buffer.alloc(4)), WavFormatError);
  const noFmt = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WAVE'), Buffer.from('data'), Buffer.alloc(4)]);
  assert.throws(() => parseWav(noFmt), (e: unknown) => e instanceof WavFormatError && /data chunk before fmt/.test(e.message));
  const badBits = rawWav({ channels: 1, rate: 16000, bits: 12, data: Buffer.alloc(6) });
  assert.throws(() => parseWav(badBits), (e: unknown) => e instanceof WavFormatError && e.field === 'format/bits');
  const badRate = rawWav({ channels: 1, rate: 0, bits: 16, data: Buffer.alloc(4) });
  assert.throws(() => parseWav(badRate), (e: unknown) => e instanceof WavFormatError && e.field === 'sample rate');
  assert.throws(() => loadAudio('/nonexistent/file.wav'), AudioInputError);
});

test('empty and truncated data chunks are handled', () => {
  assert.equal(parseWav(rawWav({ channels: 1, rate: 16000, bits: 16, data: Buffer.alloc(0) })).samples.length, 0);
  const full = rawWav({ channels: 1, rate: 16000, bits: 16, data: Buffer.alloc(200) });
  assert.equal(parseWav(full.subarray(0, 44 + 101)).samples.length, 50); // data size says 200, 101 bytes present
});

test('resampling keeps pitch and level, and is identity at equal rates', () => {
  const x = sine(440, 22050, 1);
  const y = resample(x, 22050, 16000);
  assert.equal(y.length, 16000);
  assert.ok(Math.abs(frequency(y, 16000) - 440) < 3);
  assert.ok(Math.abs(rms(y) - rms(x)) < 0.01);
  assert.equal(resample(x, 16000, 16000), x);
  // 10 kHz is above the new 8 kHz Nyquist frequency: it must be filtered out, not aliased down.
  const high = resample(sine(10000, 44100, 1), 44100, 16000);
  assert.ok(rms(high) < 0.02, `aliased energy ${rms(high)}`);
  assert.throws(() => resample(x, 0, 16000), AudioInputError);
});

test('frame splitter yields fixed frames and keeps the remainder', () => {
  const s = new FrameSplitter(4);
  assert.equal(s.push(new Float32Array(3)).length, 0);
  const frames = s.push(Int16Array.from([16384, 16384, 16384, 16384, 16384, 16384]));
  assert.equal(frames.length, 2);
  assert.equal(frames[1]?.[0], 0.5);
  assert.deepEqual([...(s.flush() ?? [])], [0.5, 0, 0, 0]);
  assert.equal(s.flush(), undefined);
  assert.deepEqual([...int16ToFloat32(Int16Array.from([-32768]))], [-1]);
});
