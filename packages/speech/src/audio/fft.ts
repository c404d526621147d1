/**
 * A mixed-radix FFT for one fixed size (any size; fast when it factors into small primes, as
 * Whisper's 400 = 2⁴·5² does): decimation in time, recursing on the smallest prime factor.
 * About n·Σfactors complex multiply-adds per transform — 7,200 for n = 400, against 160,000 for
 * the plain DFT of the real input.
 */
export class Fft {
  private readonly factors: number[] = [];
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  /** one scratch pair per recursion level (level sizes n, n/p₀, n/(p₀p₁), …) */
  private readonly scratch: { re: Float64Array; im: Float64Array }[] = [];
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly zeros: Float64Array;
  private readonly input: Float64Array;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`FFT size must be a positive integer, got ${size}`);
    let rest = size;
    for (let p = 2; rest > 1; p++) {
      while (rest % p === 0) {
        this.factors.push(p);
        rest /= p;
      }
    }
    this.cos = Float64Array.from({ length: size }, (_, j) => Math.cos((2 * Math.PI * j) / size));
    this.sin = Float64Array.from({ length: size }, (_, j) => -Math.sin((2 * Math.PI * j) / size));
    let n = size;
    for (const p of this.factors) {
      this.scratch.push({ re: new Float64Array(n), im: new Float64Array(n) });
      n /= p;
    }
    this.re = new Float64Array(size);
    this.im = new Float64Array(size);
    this.zeros = new Float64Array(size);
    this.input = new Float64Array(size);
  }

  /** |X[k]|² for k = 0 … size/2 of a real input of `size` samples, into `out`. */
  power(input: ArrayLike<number>, out: Float32Array | Float64Array): void {
    if (input.length !== this.size) throw new RangeError(`FFT input must have ${this.size} samples, got ${input.length}`);
    for (let i = 0; i < this.size; i++) this.input[i] = input[i]!;
    this.transform(this.input, this.zeros, 0, 1, this.size, this.re, this.im, 0, 0);
    const bins = Math.floor(this.size / 2) + 1;
    for (let k = 0; k < bins; k++) out[k] = this.re[k]! * this.re[k]! + this.im[k]! * this.im[k]!;
  }

  /** The complex spectrum of a complex input (for tests and other callers). */
  spectrum(re: ArrayLike<number>, im: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
    const outRe = new Float64Array(this.size);
    const outIm = new Float64Array(this.size);
    this.transform(Float64Array.from(re), Float64Array.from(im), 0, 1, this.size, outRe, outIm, 0, 0);
    return { re: outRe, im: outIm };
  }

  private transform(inRe: Float64Array, inIm: Float64Array, inAt: number, stride: number, n: number, outRe: Float64Array, outIm: Float64Array, outAt: number, level: number): void {
    if (n === 1) {
      outRe[outAt] = inRe[inAt]!;
      outIm[outAt] = inIm[inAt]!;
      return;
    }
    const p = this.factors[level]!;
    const m = n / p;
    // p interleaved sub-sequences, each transformed into its own block of the output
    // (a sub-sequence of one sample is itself: copied, not recursed into)
    if (m === 1) {
      for (let r = 0; r < p; r++) {
        outRe[outAt + r] = inRe[inAt + r * stride]!;
        outIm[outAt + r] = inIm[inAt + r * stride]!;
      }
    } else {
      for (let r = 0; r < p; r++) this.transform(inRe, inIm, inAt + r * stride, stride * p, m, outRe, outIm, outAt + r * m, level + 1);
    }
    // X[k + q·m] = Σ_r W_n^{r(k + q·m)} · Y_r[k]
    const { re: tmpRe, im: tmpIm } = this.scratch[level]!;
    const step = this.size / n; // W_n^j = W_size^(j·step)
    for (let k = 0; k < m; k++) {
      for (let q = 0; q < p; q++) {
        const index = k + q * m;
        let sumRe = 0;
        let sumIm = 0;
        let exponent = 0; // r·index mod n, kept by adding index each step
        for (let r = 0; r < p; r++) {
          const at = outAt + r * m + k;
          const yRe = outRe[at]!;
          const yIm = outIm[at]!;
          const j = exponent * step;
          const c = this.cos[j]!;
          const s = this.sin[j]!;
          sumRe += yRe * c - yIm * s;
          sumIm += yRe * s + yIm * c;
          exponent += index;
          if (exponent >= n) exponent -= n;
        }
        tmpRe[index] = sumRe;
        tmpIm[index] = sumIm;
      }
    }
    outRe.set(tmpRe.subarray(0, n), outAt);
    outIm.set(tmpIm.subarray(0, n), outAt);
  }
}
