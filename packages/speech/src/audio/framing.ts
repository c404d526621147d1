/**
 * Cuts a stream of arbitrarily sized chunks into fixed-size frames (e.g. 512 samples = 32 ms at
 * 16 kHz for Silero), keeping the remainder for the next push.
 */
export class FrameSplitter {
  private readonly pending: Float32Array;
  private filled = 0;

  constructor(readonly frameSize: number) {
    if (!Number.isInteger(frameSize) || frameSize <= 0) throw new RangeError(`frameSize must be a positive integer, got ${frameSize}`);
    this.pending = new Float32Array(frameSize);
  }

  /** Returns the complete frames this chunk finishes (copies; safe to keep). */
  push(chunk: Float32Array | Int16Array): Float32Array[] {
    const frames: Float32Array[] = [];
    const scale = chunk instanceof Int16Array ? 1 / 32768 : 1;
    for (let i = 0; i < chunk.length; i++) {
      this.pending[this.filled++] = (chunk[i] as number) * scale;
      if (this.filled === this.frameSize) {
        frames.push(this.pending.slice());
        this.filled = 0;
      }
    }
    return frames;
  }

  /** The incomplete tail, zero-padded to a full frame, or undefined when nothing is pending. */
  flush(): Float32Array | undefined {
    if (this.filled === 0) return undefined;
    const frame = new Float32Array(this.frameSize);
    frame.set(this.pending.subarray(0, this.filled));
    this.filled = 0;
    return frame;
  }
}
