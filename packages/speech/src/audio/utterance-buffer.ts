/**
 * The recent audio of a live stream, addressed by absolute sample position (the first sample
 * pushed is 0). Utterances are cut out of it once voice-activity detection has found where they
 * began and ended; audio no utterance can need any more is let go.
 */
export class UtteranceBuffer {
  private chunks: { start: number; data: Int16Array }[] = [];
  private total = 0;

  constructor(readonly sampleRate: number) {}

  /** samples pushed so far: the position of the next sample */
  get end(): number {
    return this.total;
  }

  push(chunk: Int16Array): void {
    this.chunks.push({ start: this.total, data: chunk });
    this.total += chunk.length;
  }

  /** samples [start, end) that are still held (positions before the held audio come back as silence) */
  slice(start: number, end: number): Int16Array {
    const out = new Int16Array(Math.max(0, end - start));
    for (const chunk of this.chunks) {
      const from = Math.max(start, chunk.start);
      const to = Math.min(end, chunk.start + chunk.data.length);
      if (to > from) out.set(chunk.data.subarray(from - chunk.start, to - chunk.start), from - start);
    }
    return out;
  }

  /** forget whole chunks that end before `position` */
  dropBefore(position: number): void {
    let keep = 0;
    while (keep < this.chunks.length && this.chunks[keep]!.start + this.chunks[keep]!.data.length < position) keep++;
    if (keep > 0) this.chunks = this.chunks.slice(keep);
  }

  clear(): void {
    this.chunks = [];
  }

  toMs(samples: number): number {
    return (samples * 1000) / this.sampleRate;
  }

  toSamples(ms: number): number {
    return Math.round((ms * this.sampleRate) / 1000);
  }
}
