import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fft } from './fft.js';

function naive(re: Float64Array, im: Float64Array): { re: Float64Array; im: Float64Array } {
  const n = re.length;
  const out = { re: new Float64Array(n), im: new Float64Array(n) };
  for (let k = 0; k < n; k++) {
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * k * t) / n;
      out.re[k]! += re[t]! * Math.cos(a) - im[t]! * Math.sin(a);
      out.im[k]! += re[t]! * Math.sin(a) + im[t]! * Math.cos(a);
    }
  }
  return out;
}

test('mixed-radix FFT equals the plain DFT for sizes with small and large prime factors', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  for (const n of [1, 2, 7, 12, 25, 64, 400, 401]) {
    const re = Float64Array.from({ length: n }, random);
    const im = Float64Array.from({ length: n }, random);
    const got = new Fft(n).spectrum(re, im);
    const want = naive(re, im);
    let error = 0;
    for (let k = 0; k < n; k++) error = Math.max(error, Math.abs(got.re[k]! - want.re[k]!), Math.abs(got.im[k]! - want.im[k]!));
    assert.ok(error < 1e-9 * n, `n=${n}: max error ${error}`);
  }
});

test('power spectrum of a real input: a tone lands in its bin', () => {
  const fft = new Fft(400);
  const tone = Float64Array.from({ length: 400 }, (_, t) => Math.cos((2 * Math.PI * 10 * t) / 400));
  const power = new Float64Array(201);
  fft.power(tone, power);
  assert.ok(Math.abs(power[10]! - 200 * 200) < 1e-6, `bin 10: ${power[10]}`);
  assert.ok(power.every((v, k) => k === 10 || v < 1e-12));
  assert.throws(() => fft.power(new Float64Array(399), power), RangeError);
});
