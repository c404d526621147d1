/**
 * From voice-activity events to what a conversation acts on: the user started speaking, an
 * utterance to transcribe (where it began and ended), the user stopped. Continuous speech past
 * the maximum turn length is cut into an utterance where it stands; the rest of that speech is
 * not transcribed again. Pure: positions are sample counts of the stream.
 */
import type { VadEvent } from '@arc/speech';

export type UtteranceEvent =
  | { type: 'speech-start' }
  /** the user paused: this may be the whole utterance (transcribing it now saves time if so) */
  | { type: 'pause'; startSample: number; endSample: number }
  | { type: 'utterance'; startSample: number; endSample: number; cut: boolean }
  | { type: 'speech-end' };

export class UtteranceCutter {
  private speechStart: number | undefined;
  private cut = false;
  private readonly maxTurnSamples: number;

  constructor(
    private readonly sampleRate: number,
    maxTurnMs: number,
  ) {
    this.maxTurnSamples = (maxTurnMs * sampleRate) / 1000;
  }

  /** VAD events for the audio pushed so far (`end` samples in all) → utterance events, in order. */
  next(events: readonly VadEvent[], end: number): UtteranceEvent[] {
    const out: UtteranceEvent[] = [];
    for (const event of events) {
      if (event.type === 'speech-start') {
        this.speechStart = this.samples(event.startMs);
        this.cut = false;
        out.push({ type: 'speech-start' });
        continue;
      }
      if (event.type === 'pause') {
        if (!this.cut) out.push({ type: 'pause', startSample: this.samples(event.startMs), endSample: this.samples(event.endMs) });
        continue;
      }
      if (!this.cut) out.push({ type: 'utterance', startSample: this.samples(event.startMs), endSample: this.samples(event.endMs), cut: false });
      out.push({ type: 'speech-end' });
      this.speechStart = undefined;
      this.cut = false;
    }
    if (this.speechStart !== undefined && !this.cut && end - this.speechStart > this.maxTurnSamples) {
      this.cut = true;
      out.push({ type: 'utterance', startSample: this.speechStart, endSample: end, cut: true });
    }
    return out;
  }

  /** Audio before this position is needed no more: one second before the current speech (VAD padding), or before `end`. */
  keepFrom(end: number): number {
    return (this.speechStart ?? end) - this.sampleRate;
  }

  private samples(ms: number): number {
    return Math.round((ms * this.sampleRate) / 1000);
  }
}
