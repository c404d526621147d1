import { AudioInputError } from '../errors.js';

/** Zero crossings of the sinc on each side: enough to keep aliasing well below speech levels. */
const HALF_TAPS = 16;
/** Above this many filter phases the table would be large; such odd rate pairs are computed directly. */
const MAX_PHASES = 4096;

/**
 * Band-limited resampling with a Hann-windowed sinc (polyphase table for rational ratios).
 * Speech models are sensitive to aliasing, which linear interpolation lets through when going
 * from 44.1/48 kHz down to 16 kHz.
 */
export function resample(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (!Number.isInteger(fromRate) || fromRate <= 0 || !Number.isInteger(toRate) || toRate <= 0) {
    throw new AudioInputError(`cannot resample from ${fromRate} Hz to ${toRate} Hz: rates must be positive integers`);
  }
  if (fromRate === toRate) return input;
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  const cutoff = Math.min(1, toRate / fromRate); // lower the cutoff to the new Nyquist when downsampling
  const reach = Math.ceil(HALF_TAPS / cutoff); // input samples on each side
  const taps = 2 * reach;
  const outLength = Math.floor((input.length * up) / down);
  const out = new Float32Array(outLength);
  const kernel = (x: number): number => {
    const s = x * cutoff;
    const sinc = s === 0 ? 1 : Math.sin(Math.PI * s) / (Math.PI * s);
    return sinc * (0.5 + 0.5 * Math.cos((Math.PI * x) / (reach + 1)));
  };
  const usePhases = up <= MAX_PHASES;
  const table = usePhases ? new Float32Array(up * taps) : undefined;
  if (table) {
    for (let p = 0; p < up; p++) {
      const frac = p / up;
      let sum = 0;
      for (let k = 0; k < taps; k++) sum += (table[p * taps + k] = kernel(k - reach + 1 - frac));
      for (let k = 0; k < taps; k++) table[p * taps + k] = (table[p * taps + k] as number) / sum;
    }
  }
  const last = input.length - 1;
  for (let i = 0; i < outLength; i++) {
    const pos = i * down;
    const base = Math.floor(pos / up);
    const phase = pos - base * up;
    const first = base - reach + 1;
    let acc = 0;
    if (table) {
      const row = phase * taps;
      for (let k = 0; k < taps; k++) {
        const j = first + k;
        if (j >= 0 && j <= last) acc += (input[j] as number) * (table[row + k] as number);
      }
    } else {
      let norm = 0;
      for (let k = 0; k < taps; k++) {
        const w = kernel(k - reach + 1 - phase / up);
        norm += w;
        const j = first + k;
        if (j >= 0 && j <= last) acc += (input[j] as number) * w;
      }
      acc /= norm;
    }
    out[i] = acc;
  }
  return out;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
